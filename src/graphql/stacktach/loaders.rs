//! The StackTach loaders: a stream's events and an event's streams, each level one statement.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::graphql::loaders::{DomainLoader, Loaders, Shared, load_pages};
use crate::service::stacktach::{self as stt, Event, Stream};

/// The Stacktach domain, as the type its loader is made for (`graphql::loaders::attach`).
pub enum Domain {}

/// Loads the Stacktach domain's relations: one per request, wrapped in a `DataLoader`.
pub type StacktachLoader = DomainLoader<Domain>;

/// The request's Stacktach loader, shared by the operations of a batch.
pub type StacktachLoaders = Loaders<Domain>;

/// The first `limit` events of one stream, oldest generated first. Keys with the same `limit`
/// are answered by one statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventsOfStream {
    pub id: i64,
    pub limit: u64,
}

/// The streams one event joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamsOfEvent(pub i64);

impl Loader<EventsOfStream> for StacktachLoader {
    type Value = Vec<(i64, Event)>;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[EventsOfStream],
    ) -> Result<HashMap<EventsOfStream, Vec<(i64, Event)>>, Shared> {
        load_pages(
            keys,
            |k| (k.id, k.limit),
            |_, (stream, _): &(i64, Event)| *stream,
            |ids, limit| async move { stt::events_of_streams(&self.db, &ids, limit).await },
        )
        .await
    }
}

impl Loader<StreamsOfEvent> for StacktachLoader {
    type Value = Vec<Stream>;
    type Error = Shared;

    async fn load(
        &self,
        keys: &[StreamsOfEvent],
    ) -> Result<HashMap<StreamsOfEvent, Vec<Stream>>, Shared> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = stt::streams_of_events(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        let mut out: HashMap<StreamsOfEvent, Vec<Stream>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for (event, stream) in found {
            out.entry(StreamsOfEvent(event)).or_default().push(stream);
        }
        Ok(out)
    }
}
