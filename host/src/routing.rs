//! Spin's HTTP trigger routing: exact routes, `:name` segments, trailing `/...`
//! wildcards; the most specific route wins (exact, then more literal segments,
//! then the longest wildcard prefix). Private components have no route at all.

use anyhow::{bail, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug, Clone)]
pub struct Route {
    /// The route as written in the manifest, e.g. `/users/:id/...`.
    pub raw: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

impl Route {
    pub fn parse(raw: &str) -> Result<Route> {
        if !raw.starts_with('/') {
            bail!("route `{raw}` must start with `/`");
        }
        let (body, wildcard) = match raw.strip_suffix("/...") {
            Some(body) => (body, true),
            None if raw == "/..." => ("", true),
            None => (raw, false),
        };
        let mut segments = Vec::new();
        for seg in body.split('/').filter(|s| !s.is_empty()) {
            if seg == "..." {
                bail!("route `{raw}`: `...` is only allowed at the end");
            }
            if let Some(name) = seg.strip_prefix(':') {
                if name.is_empty()
                    || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    bail!("route `{raw}`: invalid parameter `{seg}`");
                }
                segments.push(Segment::Param(name.to_string()));
            } else {
                segments.push(Segment::Literal(seg.to_string()));
            }
        }
        Ok(Route { raw: raw.to_string(), segments, wildcard })
    }

    /// The route without its wildcard: Spin's `spin-component-route`.
    pub fn base(&self) -> String {
        let mut s = String::new();
        for seg in &self.segments {
            s.push('/');
            match seg {
                Segment::Literal(l) => s.push_str(l),
                Segment::Param(p) => {
                    s.push(':');
                    s.push_str(p)
                }
            }
        }
        s
    }

    /// Ordering key: higher is more specific.
    fn specificity(&self) -> (bool, usize, usize) {
        let literals = self.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
        (!self.wildcard, self.segments.len(), literals)
    }

    fn matches(&self, path_segments: &[&str]) -> Option<RouteMatch> {
        if path_segments.len() < self.segments.len()
            || (!self.wildcard && path_segments.len() != self.segments.len())
        {
            return None;
        }
        let mut params = Vec::new();
        for (seg, value) in self.segments.iter().zip(path_segments) {
            match seg {
                Segment::Literal(l) if l == value => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => params.push((name.clone(), (*value).to_string())),
            }
        }
        let rest = &path_segments[self.segments.len()..];
        let path_info = if rest.is_empty() { String::new() } else { format!("/{}", rest.join("/")) };
        Some(RouteMatch { params, path_info })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    pub params: Vec<(String, String)>,
    /// The part of the path after the route's base (`spin-path-info`).
    pub path_info: String,
}

/// All public routes of an app, most specific first.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<(Route, String)>,
}

impl Router {
    pub fn new(entries: impl IntoIterator<Item = (Route, String)>) -> Router {
        let mut routes: Vec<_> = entries.into_iter().collect();
        routes.sort_by(|a, b| b.0.specificity().cmp(&a.0.specificity()));
        Router { routes }
    }

    /// Finds the component for a request path. Returns (route, component id, match).
    pub fn route(&self, path: &str) -> Option<(&Route, &str, RouteMatch)> {
        // A trailing slash keeps its meaning in path-info but not in matching.
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.routes
            .iter()
            .find_map(|(r, c)| r.matches(&segments).map(|m| (r, c.as_str(), m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::new(
            [
                ("/...", "fallback"),
                ("/static/...", "static"),
                ("/static/deep/...", "deep"),
                ("/exact", "exact"),
                ("/users/:id", "user"),
                ("/users/:id/posts/...", "posts"),
                ("/users/me", "me"),
            ]
            .map(|(r, c)| (Route::parse(r).unwrap(), c.to_string())),
        )
    }

    fn hit(path: &str) -> (String, RouteMatch) {
        let r = router();
        let (_, c, m) = r.route(path).unwrap();
        (c.to_string(), m)
    }

    #[test]
    fn exact_beats_wildcard() {
        assert_eq!(hit("/exact").0, "exact");
        assert_eq!(hit("/exact/more").0, "fallback");
    }

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(hit("/static/a.css").0, "static");
        let (c, m) = hit("/static/deep/x/y.js");
        assert_eq!(c, "deep");
        assert_eq!(m.path_info, "/x/y.js");
        assert_eq!(hit("/static").0, "static");
        assert_eq!(hit("/staticfoo").0, "fallback");
    }

    #[test]
    fn params_are_captured() {
        let (c, m) = hit("/users/42");
        assert_eq!(c, "user");
        assert_eq!(m.params, vec![("id".to_string(), "42".to_string())]);
        assert_eq!(hit("/users/me").0, "me");
        let (c, m) = hit("/users/7/posts/2024/1");
        assert_eq!(c, "posts");
        assert_eq!(m.params[0].1, "7");
        assert_eq!(m.path_info, "/2024/1");
    }

    #[test]
    fn bad_routes_are_rejected() {
        assert!(Route::parse("nope").is_err());
        assert!(Route::parse("/a/.../b").is_err());
        assert!(Route::parse("/a/:").is_err());
    }

    #[test]
    fn no_route_no_match() {
        let r = Router::new([(Route::parse("/only").unwrap(), "x".to_string())]);
        assert!(r.route("/other").is_none());
        assert_eq!(Route::parse("/a/:b/...").unwrap().base(), "/a/:b");
    }
}
