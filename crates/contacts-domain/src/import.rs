//! CSV import: mapping columns to fields (suggested from headers, remembered
//! per header set), and turning one row into a validated record input with a
//! per-row report (column, message).

use crate::csv::{decode, looks_like_formula, Encoding};
use crate::fields::{Entity, FieldDef};
use crate::model::{CompanyInput, ContactInput};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// How imported rows find existing records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchBy {
    /// Contacts by any of their emails, companies by domain.
    Email,
    ExternalId,
    /// Always create.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Target field per column, in column order (`null`: skip the column).
    pub columns: Vec<Option<String>>,
    pub match_by: MatchBy,
    /// Update matched records (else they are left alone and counted unchanged).
    #[serde(default = "yes")]
    pub update_existing: bool,
    /// Link contacts to companies by name, creating the missing ones.
    #[serde(default)]
    pub create_companies: bool,
}

fn yes() -> bool {
    true
}

/// Fields a column can fill, per record type (custom fields come on top).
pub fn targets(entity: Entity, defs: &[FieldDef]) -> Vec<String> {
    let base: &[&str] = match entity {
        Entity::Contact => &[
            "first_name", "last_name", "name", "email", "emails", "phone", "phones", "title", "company", "lifecycle_stage", "source", "tags",
            "address.street", "address.city", "address.region", "address.postal_code", "address.country", "consent.email", "consent.sms",
            "consent.phone", "external_id",
        ],
        Entity::Company => &[
            "name", "domain", "domains", "industry", "size", "phone", "website", "tags", "address.street", "address.city", "address.region",
            "address.postal_code", "address.country", "external_id",
        ],
    };
    let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    v.extend(defs.iter().filter(|d| d.entity == entity).map(|d| format!("custom.{}", d.key)));
    v
}

fn norm(h: &str) -> String {
    h.trim().to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect()
}

/// A guess of each column's field from its header.
pub fn suggest(entity: Entity, headers: &[String], defs: &[FieldDef]) -> Vec<Option<String>> {
    let aliases: &[(&str, &[&str])] = match entity {
        Entity::Contact => &[
            ("first_name", &["firstname", "first", "givenname", "forename", "vorname", "prenom"]),
            ("last_name", &["lastname", "last", "surname", "familyname", "nachname", "nom"]),
            ("name", &["name", "fullname", "contactname", "contact"]),
            ("email", &["email", "emailaddress", "mail", "primaryemail", "workemail", "e-mail"]),
            ("emails", &["otheremails", "additionalemails", "secondaryemail"]),
            ("phone", &["phone", "phonenumber", "mobile", "mobilephone", "telephone", "tel", "cell", "workphone"]),
            ("phones", &["otherphones", "additionalphones"]),
            ("title", &["title", "jobtitle", "position", "role"]),
            ("company", &["company", "companyname", "organization", "organisation", "account", "employer"]),
            ("lifecycle_stage", &["lifecyclestage", "stage", "lifecycle", "status"]),
            ("source", &["source", "leadsource", "origin"]),
            ("tags", &["tags", "labels", "tag"]),
            ("address.street", &["street", "address", "streetaddress", "address1"]),
            ("address.city", &["city", "town"]),
            ("address.region", &["region", "state", "province", "county"]),
            ("address.postal_code", &["postalcode", "zip", "zipcode", "postcode"]),
            ("address.country", &["country", "countrycode"]),
            ("consent.email", &["emailconsent", "emailoptin", "marketingconsent"]),
            ("external_id", &["externalid", "id", "recordid", "customerid"]),
        ],
        Entity::Company => &[
            ("name", &["name", "company", "companyname", "organization", "organisation", "account"]),
            ("domain", &["domain", "companydomain", "domainname"]),
            ("industry", &["industry", "sector"]),
            ("size", &["size", "employees", "companysize", "headcount"]),
            ("phone", &["phone", "phonenumber", "telephone"]),
            ("website", &["website", "url", "web", "homepage"]),
            ("tags", &["tags", "labels"]),
            ("address.street", &["street", "address", "address1"]),
            ("address.city", &["city", "town"]),
            ("address.region", &["region", "state", "province"]),
            ("address.postal_code", &["postalcode", "zip", "zipcode", "postcode"]),
            ("address.country", &["country", "countrycode"]),
            ("external_id", &["externalid", "id", "recordid", "accountid"]),
        ],
    };
    let mut used: Vec<String> = Vec::new();
    headers
        .iter()
        .map(|h| {
            let n = norm(h);
            let custom = defs.iter().filter(|d| d.entity == entity).find(|d| norm(&d.key) == n || norm(&d.label) == n).map(|d| format!("custom.{}", d.key));
            let std = aliases.iter().find(|(_, a)| a.iter().any(|x| norm(x) == n) || norm(a[0]) == n).map(|(t, _)| t.to_string());
            let exact = targets(entity, defs).into_iter().find(|t| norm(t) == n);
            let pick = exact.or(custom).or(std).filter(|t| !used.contains(t));
            if let Some(t) = &pick {
                used.push(t.clone());
            }
            pick
        })
        .collect()
}

/// The key remembered mappings are found by: the file's normalised headers.
pub fn signature(entity: Entity, headers: &[String]) -> String {
    format!("{}:{}", entity.as_str(), headers.iter().map(|h| norm(h)).collect::<Vec<_>>().join("|"))
}

impl Mapping {
    /// Every target is a known field, used at most once; the match key is mapped.
    pub fn check(&self, entity: Entity, defs: &[FieldDef], columns: usize) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.columns.len() != columns {
            errors.push(FieldError::new("columns", &format!("map each of the {columns} columns (null to skip one)")));
        }
        let known = targets(entity, defs);
        let mut seen: Vec<&str> = Vec::new();
        for (i, t) in self.columns.iter().enumerate() {
            let Some(t) = t else { continue };
            if !known.contains(t) {
                errors.push(FieldError::new(&format!("columns.{i}"), &format!("`{t}` is not a field you can import into")));
            } else if seen.contains(&t.as_str()) {
                errors.push(FieldError::new(&format!("columns.{i}"), &format!("`{t}` is mapped twice")));
            }
            seen.push(t);
        }
        let has = |f: &str| self.columns.iter().any(|c| c.as_deref() == Some(f));
        match (self.match_by, entity) {
            (MatchBy::Email, Entity::Contact) if !has("email") && !has("emails") => errors.push(FieldError::new("match_by", "matching by email needs an email column")),
            (MatchBy::Email, Entity::Company) if !has("domain") && !has("domains") => errors.push(FieldError::new("match_by", "matching companies needs a domain column")),
            (MatchBy::ExternalId, _) if !has("external_id") => errors.push(FieldError::new("match_by", "matching by external id needs an external_id column")),
            _ => {}
        }
        if entity == Entity::Contact && !has("first_name") && !has("last_name") && !has("name") && !has("email") {
            errors.push(FieldError::new("columns", "map a name or an email column"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn list(s: &str) -> Vec<String> {
    s.split([';', ',', '|']).map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect()
}

/// One row as a record input (JSON, before the model's own validation), or
/// the row's problems by column header.
pub fn row_input(
    entity: Entity,
    raw: &[Vec<u8>],
    enc: Encoding,
    headers: &[String],
    mapping: &Mapping,
    defs: &[FieldDef],
) -> Result<Value, Vec<FieldError>> {
    let mut errors = Vec::new();
    if raw.len() != mapping.columns.len() {
        errors.push(FieldError::new("row", &format!("has {} columns, the header has {}", raw.len(), mapping.columns.len())));
        return Err(errors);
    }
    let mut obj = Map::new();
    let mut custom = Map::new();
    let mut address = Map::new();
    let mut consent = Map::new();
    for (i, (bytes, target)) in raw.iter().zip(&mapping.columns).enumerate() {
        let Some(t) = target else { continue };
        let col = headers.get(i).cloned().unwrap_or_else(|| format!("column {}", i + 1));
        let Some(v) = decode(bytes, enc) else {
            errors.push(FieldError::new(&col, "is not valid UTF-8 (was the file saved in another encoding?)"));
            continue;
        };
        let v = v.trim().to_string();
        if v.is_empty() {
            continue;
        }
        if looks_like_formula(&v) {
            errors.push(FieldError::new(&col, "looks like a spreadsheet formula; remove the leading = + - or @"));
            continue;
        }
        match t.as_str() {
            "name" if entity == Entity::Contact => {
                let mut parts = v.rsplitn(2, ' ');
                let last = parts.next().unwrap_or("").to_string();
                match parts.next() {
                    Some(first) => {
                        obj.insert("first_name".into(), json!(first));
                        obj.insert("last_name".into(), json!(last));
                    }
                    None => {
                        obj.insert("first_name".into(), json!(last));
                    }
                }
            }
            "emails" => {
                obj.insert("emails".into(), Value::Array(list(&v).into_iter().map(|e| json!({"address": e})).collect()));
            }
            "phones" => {
                obj.insert("phones".into(), Value::Array(v.split([';', '|']).map(str::trim).filter(|x| !x.is_empty()).map(|p| json!({"number": p})).collect()));
            }
            "domains" | "tags" => {
                obj.insert(t.clone(), json!(list(&v)));
            }
            "lifecycle_stage" => {
                obj.insert(t.clone(), json!(v.to_lowercase()));
            }
            t if t.starts_with("address.") => {
                address.insert(t["address.".len()..].to_string(), json!(v));
            }
            t if t.starts_with("consent.") => {
                let state = match v.to_lowercase().as_str() {
                    "yes" | "y" | "true" | "1" | "granted" | "opted in" | "opt-in" => "granted",
                    "no" | "n" | "false" | "0" | "denied" | "opted out" | "opt-out" => "denied",
                    _ => "unknown",
                };
                consent.insert(t["consent.".len()..].to_string(), json!(state));
            }
            t if t.starts_with("custom.") => {
                let key = &t["custom.".len()..];
                match defs.iter().find(|d| d.key == key && d.entity == entity) {
                    Some(d) => match d.parse_text(&v) {
                        Ok(Value::Null) => {}
                        Ok(val) => {
                            custom.insert(key.to_string(), val);
                        }
                        Err(m) => errors.push(FieldError::new(&col, &m)),
                    },
                    None => errors.push(FieldError::new(&col, "maps to a field that no longer exists")),
                }
            }
            t => {
                obj.insert(t.to_string(), json!(v));
            }
        }
    }
    if !address.is_empty() {
        obj.insert("address".into(), Value::Object(address));
    }
    if !consent.is_empty() {
        obj.insert("consent".into(), Value::Object(consent));
    }
    if !custom.is_empty() {
        obj.insert("custom".into(), Value::Object(custom));
    }
    if errors.is_empty() {
        Ok(Value::Object(obj))
    } else {
        Err(errors)
    }
}

/// Validation errors of a row, with model field names turned into column names.
pub fn by_column(errors: Vec<FieldError>, headers: &[String], mapping: &Mapping) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| {
            let field = e.field.split('.').next().unwrap_or("").to_string();
            let col = mapping
                .columns
                .iter()
                .position(|t| t.as_deref().is_some_and(|t| t == e.field || t == field || t.starts_with(&format!("{field}."))))
                .and_then(|i| headers.get(i).cloned())
                .unwrap_or(e.field.clone());
            FieldError::new(&col, &e.message)
        })
        .collect()
}

/// A row's JSON as the record type's input.
pub fn contact_input(v: Value) -> Result<ContactInput, Vec<FieldError>> {
    serde_json::from_value(v).map_err(|e| vec![FieldError::new("row", &e.to_string())])
}

pub fn company_input(v: Value) -> Result<CompanyInput, Vec<FieldError>> {
    serde_json::from_value(v).map_err(|e| vec![FieldError::new("row", &e.to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{tests::def, Kind};

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn suggests_fields_from_headers() {
        let defs = vec![def("tier", Kind::Select, &["Gold"])];
        let s = suggest(Entity::Contact, &h(&["First Name", "Surname", "E-mail", "Mobile", "Organisation", "Tier", "Zip", "Notes"]), &defs);
        let want = [Some("first_name"), Some("last_name"), Some("email"), Some("phone"), Some("company"), Some("custom.tier"), Some("address.postal_code"), None];
        assert_eq!(s, want.iter().map(|x| x.map(String::from)).collect::<Vec<_>>());
        assert_eq!(signature(Entity::Contact, &h(&["E-mail", "Name"])), signature(Entity::Contact, &h(&["email ", "NAME"])));
    }

    #[test]
    fn rows_become_inputs_or_column_errors() {
        let defs = vec![def("tier", Kind::Select, &["Gold"]), def("score", Kind::Number, &[])];
        let headers = h(&["Name", "Email", "Tags", "Tier", "Score", "City", "Opt-in"]);
        let m = Mapping {
            columns: vec![Some("name".into()), Some("email".into()), Some("tags".into()), Some("custom.tier".into()), Some("custom.score".into()), Some("address.city".into()), Some("consent.email".into())],
            match_by: MatchBy::Email,
            update_existing: true,
            create_companies: false,
        };
        assert!(m.check(Entity::Contact, &defs, 7).is_ok());
        let row = |cells: &[&str]| cells.iter().map(|c| c.as_bytes().to_vec()).collect::<Vec<_>>();
        let v = row_input(Entity::Contact, &row(&["Ada King Lovelace", "ada@x.io", "vip; math", "Gold", "lots", "London", "yes"]), Encoding::Utf8, &headers, &m, &defs);
        assert!(v.is_err(), "lots is not a number");
        let v = row_input(Entity::Contact, &row(&["Ada King Lovelace", "ada@x.io", "vip; math", "Gold", "15", "London", "yes"]), Encoding::Utf8, &headers, &m, &defs).unwrap();
        assert_eq!(v, json!({"first_name": "Ada King", "last_name": "Lovelace", "email": "ada@x.io", "tags": ["vip", "math"], "custom": {"tier": "Gold", "score": 15.0}, "address": {"city": "London"}, "consent": {"email": "granted"}}));
        let e = row_input(Entity::Contact, &row(&["=cmd|' /C calc'!A0", "=cmd|calc@x.io", "", "Silver", "", "", ""]), Encoding::Utf8, &headers, &m, &defs).unwrap_err();
        let cols: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(cols, vec!["Name", "Email", "Tier"], "formulas are refused in every column");
        let e = row_input(Entity::Contact, &row(&["only", "two"]), Encoding::Utf8, &headers, &m, &defs).unwrap_err();
        assert_eq!(e[0].field, "row");
        let bad_utf8 = vec![b"Zo\xEB".to_vec(), b"z@x.io".to_vec(), vec![], vec![], vec![], vec![], vec![]];
        assert_eq!(row_input(Entity::Contact, &bad_utf8, Encoding::Utf8, &headers, &m, &defs).unwrap_err()[0].field, "Name");
        assert!(row_input(Entity::Contact, &bad_utf8, Encoding::Latin1, &headers, &m, &defs).is_ok());
        // Model errors name the column.
        let errs = by_column(vec![FieldError::new("email", "is not valid"), FieldError::new("custom.tier", "bad")], &headers, &m);
        assert_eq!(errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), vec!["Email", "Tier"]);
    }

    #[test]
    fn mappings_are_checked() {
        let m = |cols: &[Option<&str>], by: MatchBy| Mapping { columns: cols.iter().map(|c| c.map(String::from)).collect(), match_by: by, update_existing: true, create_companies: false };
        assert!(m(&[Some("email"), Some("email")], MatchBy::None).check(Entity::Contact, &[], 2).is_err());
        assert!(m(&[Some("password")], MatchBy::None).check(Entity::Contact, &[], 1).is_err());
        assert!(m(&[Some("first_name")], MatchBy::Email).check(Entity::Contact, &[], 1).is_err());
        assert!(m(&[Some("first_name")], MatchBy::None).check(Entity::Contact, &[], 2).is_err());
        assert!(m(&[Some("email"), None], MatchBy::Email).check(Entity::Contact, &[], 2).is_ok());
    }
}
