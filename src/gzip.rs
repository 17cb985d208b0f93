//! gzip for answers whose legacy server compressed them when asked (KernelCI's Tornado with
//! `compress_response`), generic over what is compressed.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use poem::http::header;

/// Smaller bodies are sent as they are: Tornado's `GZipContentEncoding.MIN_LENGTH`.
pub const MIN_LENGTH: usize = 1024;

/// Whether the request's `Accept-Encoding` takes gzip (a `q=0` refuses it).
pub fn accepted(req: &poem::Request) -> bool {
    let Some(value) = req.header(header::ACCEPT_ENCODING) else {
        return false;
    };
    value.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

/// `body` gzip-compressed.
pub fn compress(body: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::with_capacity(body.len() / 4 + 64), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn req(accept: &str) -> poem::Request {
        poem::Request::builder()
            .header(header::ACCEPT_ENCODING, accept)
            .finish()
    }

    #[test]
    fn reads_accept_encoding() {
        assert!(accepted(&req("gzip, deflate")));
        assert!(accepted(&req("br;q=1.0, GZIP;q=0.5")));
        assert!(accepted(&req("*")));
        assert!(!accepted(&req("gzip;q=0")));
        assert!(!accepted(&req("deflate, br")));
        assert!(!accepted(&poem::Request::builder().finish()));
    }

    #[test]
    fn compresses_losslessly() {
        let body = "kernel ".repeat(500);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&compress(body.as_bytes())[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
    }
}
