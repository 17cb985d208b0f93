//! Fetches the browser bundles the web pages use (GraphiQL with React for `/graphiql`, Redoc for
//! `/docs`) as pinned npm packages, checks each tarball against its registry integrity hash, and
//! leaves the files, with a gzip copy of each, in `OUT_DIR/web/` for `include_bytes!`. Nothing
//! third-party is committed, and the server needs no network at run time.
//!
//! Without network, point `TESTGRAPH_WEB_ASSETS_DIR` at a folder holding the tarballs
//! (`graphiql-4.1.2.tgz`, ...; `npm pack graphiql@4.1.2` makes one): they are checked the same way.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha512};

struct Package {
    name: &'static str,
    version: &'static str,
    /// npm's `dist.integrity`.
    integrity: &'static str,
    /// (path in the tarball, name served).
    files: &'static [(&'static str, &'static str)],
}

const PACKAGES: &[Package] = &[
    Package {
        name: "react",
        version: "18.3.1",
        integrity: "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        files: &[("package/umd/react.production.min.js", "react-18.3.1.min.js")],
    },
    Package {
        name: "react-dom",
        version: "18.3.1",
        integrity: "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        files: &[(
            "package/umd/react-dom.production.min.js",
            "react-dom-18.3.1.min.js",
        )],
    },
    Package {
        name: "graphiql",
        version: "4.1.2",
        integrity: "sha512-rNlzQIAzm6i2KBXmVQWBgLvt0TloxFVB2d18bukvdsvjEuFDHsKx5IVOomL1W1o5WW+tE54+ioHb2AEKzO2cUg==",
        files: &[
            ("package/graphiql.min.js", "graphiql-4.1.2.min.js"),
            ("package/graphiql.min.css", "graphiql-4.1.2.min.css"),
        ],
    },
    Package {
        name: "redoc",
        version: "2.5.0",
        integrity: "sha512-NpYsOZ1PD9qFdjbLVBZJWptqE+4Y6TkUuvEOqPUmoH7AKOmPcE+hYjotLxQNTqVoWL4z0T2uxILmcc8JGDci+Q==",
        files: &[(
            "package/bundles/redoc.standalone.js",
            "redoc-2.5.0.standalone.js",
        )],
    },
];

const ENV: &str = "TESTGRAPH_WEB_ASSETS_DIR";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed={ENV}");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("web");
    std::fs::create_dir_all(&out).expect("create OUT_DIR/web");
    for p in PACKAGES {
        let done = p
            .files
            .iter()
            .all(|(_, name)| out.join(name).exists() && out.join(format!("{name}.gz")).exists());
        if done {
            continue;
        }
        let tarball = tarball(p);
        check_integrity(p, &tarball);
        extract(p, &tarball, &out);
    }
}

/// The package's tarball: from `TESTGRAPH_WEB_ASSETS_DIR` when set, else from the npm registry.
fn tarball(p: &Package) -> Vec<u8> {
    let file = format!("{}-{}.tgz", p.name, p.version);
    if let Some(dir) = std::env::var_os(ENV) {
        let path = Path::new(&dir).join(&file);
        println!("cargo:rerun-if-changed={}", path.display());
        return std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{ENV} is set but {} cannot be read: {e}", path.display()));
    }
    let url = format!("https://registry.npmjs.org/{}/-/{file}", p.name);
    let resp = ureq::get(&url).call().unwrap_or_else(|e| {
        panic!(
            "cannot download {url} ({e}). Without network, set {ENV} to a folder holding {file} \
             (made with `npm pack {}@{}`)",
            p.name, p.version
        )
    });
    let mut body = Vec::new();
    resp.into_reader()
        .take(64 << 20)
        .read_to_end(&mut body)
        .unwrap_or_else(|e| panic!("reading {url}: {e}"));
    body
}

fn check_integrity(p: &Package, tarball: &[u8]) {
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha512::digest(tarball));
    let got = format!("sha512-{digest}");
    assert_eq!(
        got, p.integrity,
        "{}@{}: the tarball's hash is not the pinned integrity hash",
        p.name, p.version
    );
}

fn extract(p: &Package, tarball: &[u8], out: &Path) {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    let mut found = 0;
    for entry in archive.entries().expect("read tarball") {
        let mut entry = entry.expect("tarball entry");
        let path = entry
            .path()
            .expect("entry path")
            .to_string_lossy()
            .into_owned();
        let Some((_, name)) = p.files.iter().find(|(inside, _)| *inside == path) else {
            continue;
        };
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read entry");
        std::fs::write(out.join(name), &data).expect("write asset");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&data).expect("gzip");
        std::fs::write(out.join(format!("{name}.gz")), gz.finish().expect("gzip"))
            .expect("write gzip asset");
        found += 1;
    }
    assert_eq!(
        found,
        p.files.len(),
        "{}@{}: not every expected file is in the tarball",
        p.name,
        p.version
    );
}
