//! `GET PREFIX/switchboard.js` and `PREFIX/switchboard.d.ts`: the browser client and
//! its types, served beside the WebSocket endpoint so a page can
//! `import { SocketClient } from '/switchboard/switchboard.js'` with no build step.
//!
//! A single-page app on another origin may import them too: they are public code that
//! no request credential changes, so every origin may read them
//! (`Access-Control-Allow-Origin: *`). Each carries an `ETag` (a hash of the file,
//! computed at compile time) and is revalidated on every load (`Cache-Control:
//! no-cache`): a browser that has the file gets `304 Not Modified` until the server
//! ships another one.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

/// A file served as it is compiled into the framework.
struct StaticFile {
    /// The file name under the routes prefix.
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
    /// The strong validator, quotes included.
    etag: &'static str,
}

/// The client itself: a plain ES module, kept in `framework/static/`.
const CLIENT: StaticFile = StaticFile {
    name: "switchboard.js",
    content_type: "text/javascript; charset=utf-8",
    body: CLIENT_SOURCE,
    etag: etag_text(&CLIENT_ETAG),
};
const CLIENT_SOURCE: &str = include_str!("../../static/switchboard.js");
const CLIENT_ETAG: [u8; 18] = etag_bytes(CLIENT_SOURCE);

/// Its TypeScript declarations (the npm package's `types`).
const TYPES: StaticFile = StaticFile {
    name: "switchboard.d.ts",
    content_type: "application/typescript; charset=utf-8",
    body: TYPES_SOURCE,
    etag: etag_text(&TYPES_ETAG),
};
const TYPES_SOURCE: &str = include_str!("../../static/switchboard.d.ts");
const TYPES_ETAG: [u8; 18] = etag_bytes(TYPES_SOURCE);

pub(super) fn mount(cfg: &mut web::ServiceConfig, prefix: &str) {
    cfg.route(
        &format!("{prefix}/{}", CLIENT.name),
        web::get().to(|req: HttpRequest| async move { serve(&CLIENT, &req) }),
    )
    .route(
        &format!("{prefix}/{}", TYPES.name),
        web::get().to(|req: HttpRequest| async move { serve(&TYPES, &req) }),
    );
}

fn serve(file: &StaticFile, req: &HttpRequest) -> HttpResponse {
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| matches_any(tags, file.etag));
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, file.etag))
        // Revalidate on every load: the file changes with the server, not with a URL.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"));
    if file.name == CLIENT.name {
        // Where Deno and other URL importers find the module's types.
        response.insert_header(("X-TypeScript-Types", format!("./{}", TYPES.name)));
    }
    if fresh {
        return response.finish();
    }
    response.content_type(file.content_type).body(file.body)
}

/// Whether an `If-None-Match` value (`*`, or a list of entity tags) names `etag`.
/// The comparison is weak (RFC 9110, 13.1.2): `W/"x"` names `"x"`.
fn matches_any(tags: &str, etag: &str) -> bool {
    tags.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// 64-bit FNV-1a: small, and const, so each tag is computed once, by the compiler.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// `"` + the hash in 16 hex digits + `"`.
const fn etag_bytes(content: &str) -> [u8; 18] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hash = fnv1a(content.as_bytes());
    let mut out = [b'"'; 18];
    let mut i = 0;
    while i < 16 {
        out[1 + i] = HEX[((hash >> (60 - 4 * i)) & 0xf) as usize];
        i += 1;
    }
    out
}

/// The tag as text; its bytes are ASCII by construction.
const fn etag_text(bytes: &'static [u8; 18]) -> &'static str {
    match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => panic!("an entity tag is ASCII"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_quoted_hex_hashes_of_the_content() {
        assert_eq!(
            CLIENT.etag,
            format!("\"{:016x}\"", fnv1a(CLIENT.body.as_bytes()))
        );
        assert_eq!(
            TYPES.etag,
            format!("\"{:016x}\"", fnv1a(TYPES.body.as_bytes()))
        );
        // FNV-1a's published test vector.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists() {
        let tag = "\"0123456789abcdef\"";
        assert!(matches_any(tag, tag));
        assert!(matches_any("*", tag));
        assert!(matches_any("\"other\", W/\"0123456789abcdef\"", tag));
        assert!(!matches_any("\"other\"", tag));
        assert!(!matches_any("0123456789abcdef", tag));
    }
}
