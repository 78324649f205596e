//! List requests: `?limit=` (default 50, max 200), opaque `cursor`, `q` filter.

use edge_http::{ids, query, FieldError};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub limit: u32,
    /// Keyset position: the last id of the previous page (newest first).
    pub after_id: Option<String>,
    /// Lower-cased search text.
    pub q: Option<String>,
}

impl ListQuery {
    pub fn parse(query_string: &str) -> Result<ListQuery, Vec<FieldError>> {
        let pairs = query::parse(query_string);
        let mut errors = Vec::new();
        let limit = match query::get(&pairs, "limit") {
            None | Some("") => DEFAULT_LIMIT,
            Some(s) => match s.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new("limit", &format!("must be a whole number from 1 to {MAX_LIMIT}")));
                    DEFAULT_LIMIT
                }
            },
        };
        let after_id = match query::get(&pairs, "cursor") {
            None | Some("") => None,
            Some(c) => match ids::decode_cursor(c).filter(|id| ids::is_valid(crate::ID_PREFIX, id)) {
                Some(id) => Some(id),
                None => {
                    errors.push(FieldError::new("cursor", "is not a cursor this API issued"));
                    None
                }
            },
        };
        let q = query::get(&pairs, "q")
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        if q.as_ref().is_some_and(|s| s.chars().count() > 200) {
            errors.push(FieldError::new("q", "must be at most 200 characters"));
        }
        if errors.is_empty() {
            Ok(ListQuery { limit, after_id, q })
        } else {
            Err(errors)
        }
    }

    /// The cursor for the page after one whose last id is `last_id`.
    pub fn next_cursor(&self, fetched: usize, last_id: Option<&str>) -> Option<String> {
        // One extra row is fetched to know whether another page exists.
        (fetched > self.limit as usize).then(|| last_id.map(ids::encode_cursor)).flatten()
    }

    /// `LIKE` pattern for `q`, with the wildcards in user input escaped.
    pub fn like_pattern(&self) -> Option<String> {
        self.q.as_ref().map(|q| {
            let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_limits() {
        assert_eq!(ListQuery::parse("").unwrap(), ListQuery { limit: 50, after_id: None, q: None });
        assert_eq!(ListQuery::parse("limit=200").unwrap().limit, 200);
        for bad in ["limit=0", "limit=201", "limit=abc", "limit=-1"] {
            let e = ListQuery::parse(bad).unwrap_err();
            assert_eq!(e[0].field, "limit", "{bad}");
        }
    }

    #[test]
    fn cursors_are_checked() {
        let id = edge_http::ids::new_id("c", 1, [7; 10]);
        let c = edge_http::ids::encode_cursor(&id);
        assert_eq!(ListQuery::parse(&format!("cursor={c}")).unwrap().after_id, Some(id));
        assert_eq!(ListQuery::parse("cursor=Zm9v").unwrap_err()[0].field, "cursor");
    }

    #[test]
    fn search_is_escaped() {
        let q = ListQuery::parse("q=50%25_off").unwrap();
        assert_eq!(q.like_pattern().as_deref(), Some("%50\\%\\_off%"));
        let q = ListQuery { limit: 2, after_id: None, q: None };
        assert_eq!(q.next_cursor(2, Some("c_x")), None);
        assert!(q.next_cursor(3, Some("c_x")).is_some());
    }
}
