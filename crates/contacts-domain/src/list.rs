//! List requests: `?limit=` (default 50, max 200), opaque `cursor`, `q` (full-text),
//! `filter` (JSON, see `filter`), `sort` (`-updated_at`), `view=trash`.

use crate::filter::{self, Filter};
use edge_db::Val;
use edge_http::{query, FieldError};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    pub limit: u32,
    /// Keyset position: sort key and id of the last row of the previous page.
    pub after: Option<(Val, String)>,
    /// Search text (matched with the full-text index, prefixes included).
    pub q: Option<String>,
    pub filter: Option<Filter>,
    pub sort: Option<String>,
    /// Deleted records (restorable for 30 days) instead of live ones.
    pub trash: bool,
}

impl ListQuery {
    pub fn parse(query_string: &str) -> Result<ListQuery, Vec<FieldError>> {
        Self::from_pairs(&query::parse(query_string))
    }

    pub fn from_pairs(pairs: &[(String, String)]) -> Result<ListQuery, Vec<FieldError>> {
        let mut errors = Vec::new();
        let limit = match query::get(pairs, "limit") {
            None | Some("") => DEFAULT_LIMIT,
            Some(s) => match s.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new("limit", &format!("must be a whole number from 1 to {MAX_LIMIT}")));
                    DEFAULT_LIMIT
                }
            },
        };
        let after = match query::get(pairs, "cursor") {
            None | Some("") => None,
            Some(c) => match filter::decode_cursor(c) {
                Some(k) => Some(k),
                None => {
                    errors.push(FieldError::new("cursor", "is not a cursor this API issued"));
                    None
                }
            },
        };
        let q = query::get(pairs, "q").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if q.as_ref().is_some_and(|s| s.chars().count() > 200) {
            errors.push(FieldError::new("q", "must be at most 200 characters"));
        }
        let filter = match query::get(pairs, "filter").map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(f) => match Filter::parse(f) {
                Ok(f) => Some(f),
                Err(e) => {
                    errors.extend(e);
                    None
                }
            },
        };
        let sort = query::get(pairs, "sort").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let trash = match query::get(pairs, "view") {
            None | Some("") | Some("live") => false,
            Some("trash") => true,
            Some(_) => {
                errors.push(FieldError::new("view", "must be `live` or `trash`"));
                false
            }
        };
        if errors.is_empty() {
            Ok(ListQuery { limit, after, q, filter, sort, trash })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_limits() {
        let q = ListQuery::parse("").unwrap();
        assert_eq!((q.limit, q.after.is_none(), q.trash), (50, true, false));
        assert_eq!(ListQuery::parse("limit=200").unwrap().limit, 200);
        for bad in ["limit=0", "limit=201", "limit=abc", "limit=-1", "cursor=Zm9v", "view=all", "filter=%7Bnope"] {
            assert!(ListQuery::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn filters_and_cursors_parse() {
        let c = filter::encode_cursor(&Val::from("x"), "c_1");
        let q = ListQuery::parse(&format!("cursor={c}&q=+ada+&sort=-updated_at&view=trash&filter=%7B%22field%22%3A%22tags%22%2C%22op%22%3A%22empty%22%7D")).unwrap();
        assert_eq!(q.after, Some((Val::from("x"), "c_1".to_string())));
        assert_eq!(q.q.as_deref(), Some("ada"));
        assert_eq!(q.sort.as_deref(), Some("-updated_at"));
        assert!(q.trash && q.filter.is_some());
    }
}
