//! Path resolution, content types and ETags for static files. Pure apart from
//! the `read` function it is given, so it is tested natively.

pub enum Resolved {
    File { content_type: &'static str, bytes: Vec<u8>, cache_control: &'static str },
    NotFound,
}

pub fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).as_deref() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// A strong ETag from the content (FNV-1a 64): stable across restarts and hosts.
pub fn etag(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}-{}\"", bytes.len())
}

/// Maps a URL path to a file: `/` and directories to `index.html`; extension-less
/// paths that are not files to the app's (or the portal's) `index.html`.
pub fn resolve(path: &str, read: impl Fn(&str) -> Option<Vec<u8>>) -> Resolved {
    let clean: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    if clean.iter().any(|s| *s == ".." || s.contains('\\') || s.starts_with('.')) {
        return Resolved::NotFound;
    }
    let joined = format!("/{}", clean.join("/"));
    let file = |p: &str| -> Option<Resolved> {
        read(p).map(|bytes| Resolved::File {
            content_type: content_type(p),
            bytes,
            // Not fingerprinted yet: always revalidate (a cheap 304 with the ETag).
            cache_control: "no-cache",
        })
    };
    let is_dir_like = clean.last().is_none_or(|last| !last.contains('.'));
    if !is_dir_like {
        return file(&joined).unwrap_or(Resolved::NotFound);
    }
    let index = if joined == "/" { "/index.html".to_string() } else { format!("{joined}/index.html") };
    if let Some(r) = file(&joined).filter(|_| joined != "/").or_else(|| file(&index)) {
        return r;
    }
    let fallback = if clean.first() == Some(&"portal") { "/portal/index.html" } else { "/index.html" };
    file(fallback).unwrap_or(Resolved::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs(p: &str) -> Option<Vec<u8>> {
        match p {
            "/index.html" => Some(b"app".to_vec()),
            "/portal/index.html" => Some(b"portal".to_vec()),
            "/app/main.js" => Some(b"js".to_vec()),
            _ => None,
        }
    }

    fn body(r: Resolved) -> Option<(String, &'static str)> {
        match r {
            Resolved::File { bytes, content_type, .. } => Some((String::from_utf8(bytes).unwrap(), content_type)),
            Resolved::NotFound => None,
        }
    }

    #[test]
    fn resolves_files_and_fallbacks() {
        assert_eq!(body(resolve("/", fs)).unwrap().0, "app");
        assert_eq!(body(resolve("/app/main.js", fs)).unwrap(), ("js".into(), "text/javascript; charset=utf-8"));
        assert_eq!(body(resolve("/contacts/c_123", fs)).unwrap().0, "app");
        assert_eq!(body(resolve("/portal/orders/7", fs)).unwrap().0, "portal");
        assert_eq!(body(resolve("/portal", fs)).unwrap().0, "portal");
        assert!(body(resolve("/missing.js", fs)).is_none());
        assert!(body(resolve("/../etc/passwd", fs)).is_none());
        assert!(body(resolve("/.git/config", fs)).is_none());
    }

    #[test]
    fn etags_change_with_content() {
        assert_ne!(etag(b"a"), etag(b"b"));
        assert_eq!(etag(b"a"), etag(b"a"));
        assert!(etag(b"").starts_with('"'));
    }
}
