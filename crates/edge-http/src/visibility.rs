//! Record visibility as the router passes it to feature components
//! (`edge-visibility`, a trusted internal header): absent means every record;
//! `owners=u_1,u_2` limits the caller to records those users own (a sales user
//! under the tenant's "own" or "team" setting).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    All,
    /// Only records owned by one of these users (never empty: an unknown or
    /// malformed restriction sees nothing rather than everything).
    Owners(Vec<String>),
}

impl Visibility {
    pub fn from_header(value: Option<&str>) -> Visibility {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Visibility::All };
        let owners: Vec<String> = v
            .strip_prefix("owners=")
            .map(|list| list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default();
        if owners.is_empty() {
            // Fail closed: a restriction we cannot read matches no owner.
            Visibility::Owners(vec![String::new()])
        } else {
            Visibility::Owners(owners)
        }
    }

    /// Whether a record with this owner is visible.
    pub fn allows(&self, owner: Option<&str>) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Owners(list) => owner.is_some_and(|o| !o.is_empty() && list.iter().any(|x| x == o)),
        }
    }

    /// A SQL condition on `column` with its `?` parameters, or None for all records.
    pub fn sql(&self, column: &str) -> Option<(String, Vec<String>)> {
        match self {
            Visibility::All => None,
            Visibility::Owners(list) => {
                let marks = vec!["?"; list.len()].join(", ");
                Some((format!("{column} IN ({marks})"), list.clone()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_fails_closed() {
        assert_eq!(Visibility::from_header(None), Visibility::All);
        assert_eq!(Visibility::from_header(Some("owners=u_1,u_2")), Visibility::Owners(vec!["u_1".into(), "u_2".into()]));
        let garbled = Visibility::from_header(Some("own"));
        assert!(!garbled.allows(Some("u_1")) && !garbled.allows(None));
        assert!(!Visibility::from_header(Some("owners=")).allows(Some("")));
    }

    #[test]
    fn allows_and_sql() {
        let v = Visibility::from_header(Some("owners=u_1,u_2"));
        assert!(v.allows(Some("u_2")) && !v.allows(Some("u_3")) && !v.allows(None));
        assert_eq!(v.sql("owner_id"), Some(("owner_id IN (?, ?)".into(), vec!["u_1".into(), "u_2".into()])));
        assert_eq!(Visibility::All.sql("owner_id"), None);
        assert!(Visibility::All.allows(None));
    }
}
