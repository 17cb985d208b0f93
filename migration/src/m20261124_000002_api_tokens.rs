//! API tokens: only a SHA-256 of the secret is stored; the secret is shown once at creation.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    Name,
    SecretHash,
    Scopes,
    GroupName,
    CreatedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(
                        ColumnDef::new(ApiTokens::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ApiTokens::Name).string_len(200).not_null())
                    .col(
                        ColumnDef::new(ApiTokens::SecretHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    // Space-separated scope names, e.g. "read write".
                    .col(ColumnDef::new(ApiTokens::Scopes).string_len(200).not_null())
                    .col(
                        ColumnDef::new(ApiTokens::GroupName)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ApiTokens::CreatedAt).timestamp().not_null())
                    .col(ColumnDef::new(ApiTokens::RevokedAt).timestamp().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiTokens::Table).to_owned())
            .await
    }
}
