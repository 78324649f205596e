//! Records as stored and as the API returns them: contacts (people), companies
//! and activities, with their validated inputs.
//!
//! Writes take a full input (`POST`) or a JSON merge patch (`PATCH`, RFC 7386)
//! applied to the record's input form, so both paths share one validation.

use crate::fields::{check_custom, FieldDef};
use crate::validate::{clean, is_email, is_phone};
use edge_http::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub type Custom = Map<String, Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    Subscriber,
    #[default]
    Lead,
    Qualified,
    Opportunity,
    Customer,
    Advocate,
    Churned,
}

/// Lifecycle stage names, in order.
pub const STAGES: [&str; 7] = ["subscriber", "lead", "qualified", "opportunity", "customer", "advocate", "churned"];

impl Lifecycle {
    pub const ALL: [Lifecycle; 7] =
        [Lifecycle::Subscriber, Lifecycle::Lead, Lifecycle::Qualified, Lifecycle::Opportunity, Lifecycle::Customer, Lifecycle::Advocate, Lifecycle::Churned];
    pub fn as_str(self) -> &'static str {
        STAGES[self as usize]
    }
    pub fn parse(s: &str) -> Option<Lifecycle> {
        Lifecycle::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ConsentState {
    #[default]
    Unknown,
    Granted,
    Denied,
}

/// Consent per channel (campaigns read it before sending).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Consent {
    pub email: ConsentState,
    pub sms: ConsentState,
    pub phone: ConsentState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl Address {
    fn clean(self, field: &str, errors: &mut Vec<FieldError>) -> Option<Address> {
        let a = Address {
            street: clean(self.street),
            city: clean(self.city),
            region: clean(self.region),
            postal_code: clean(self.postal_code),
            country: clean(self.country).map(|c| c.to_uppercase()),
        };
        for (name, v) in [("street", &a.street), ("city", &a.city), ("region", &a.region), ("postal_code", &a.postal_code)] {
            if v.as_ref().is_some_and(|s| s.chars().count() > 200) {
                errors.push(FieldError::new(&format!("{field}.{name}"), "must be at most 200 characters"));
            }
        }
        if a.country.as_ref().is_some_and(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
            errors.push(FieldError::new(&format!("{field}.country"), "must be a two-letter country code (ISO 3166-1)"));
        }
        (a != Address::default()).then_some(a)
    }
    /// One line for search and display.
    pub fn line(&self) -> String {
        [&self.street, &self.city, &self.region, &self.postal_code, &self.country].iter().filter_map(|f| f.as_deref()).collect::<Vec<_>>().join(", ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailEntry {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default)]
    pub primary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneEntry {
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default)]
    pub primary: bool,
}

/// Digits of a phone number, the key duplicates are found by.
pub fn phone_key(n: &str) -> String {
    n.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// A contact (a person).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The primary email and phone (also in `emails`/`phones`).
    pub email: Option<String>,
    pub phone: Option<String>,
    pub emails: Vec<EmailEntry>,
    pub phones: Vec<PhoneEntry>,
    pub title: Option<String>,
    /// The primary company, and its name as shown (free text when not linked).
    pub company_id: Option<String>,
    pub company: Option<String>,
    /// Every linked company, the primary first.
    pub company_ids: Vec<String>,
    pub address: Option<Address>,
    pub lifecycle_stage: Lifecycle,
    pub source: Option<String>,
    /// The staff user who owns the record (`u_…`); none for records made by API keys.
    pub owner_id: Option<String>,
    pub tags: Vec<String>,
    pub custom: Custom,
    pub consent: Consent,
    pub external_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_activity_at: Option<String>,
    pub deleted_at: Option<String>,
    pub version: i64,
}

impl Contact {
    pub fn display_name(&self) -> String {
        let n = [&self.first_name, &self.last_name].iter().filter_map(|f| f.as_deref()).collect::<Vec<_>>().join(" ");
        if n.is_empty() {
            self.email.clone().unwrap_or_default()
        } else {
            n
        }
    }

    /// The record in input form, for applying a merge patch.
    pub fn to_input(&self) -> Value {
        serde_json::json!({
            "first_name": self.first_name, "last_name": self.last_name,
            "emails": self.emails, "phones": self.phones, "title": self.title,
            // Links besides the primary: unlinking the primary (`company_id: null`)
            // promotes the next link instead of keeping the old one.
            "company_id": self.company_id, "company": self.company,
            "company_ids": self.company_ids.iter().filter(|c| Some(*c) != self.company_id.as_ref()).collect::<Vec<_>>(),
            "address": self.address, "lifecycle_stage": self.lifecycle_stage, "source": self.source,
            "owner_id": self.owner_id, "tags": self.tags, "custom": self.custom, "consent": self.consent,
            "external_id": self.external_id,
        })
    }
}

/// What a client may send for a contact. Unknown fields are rejected so typos never pass silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Shortcut for a single (primary) address; merged into `emails`.
    pub email: Option<String>,
    pub phone: Option<String>,
    pub emails: Option<Vec<EmailEntry>>,
    pub phones: Option<Vec<PhoneEntry>>,
    pub title: Option<String>,
    pub company_id: Option<String>,
    pub company: Option<String>,
    pub company_ids: Option<Vec<String>>,
    pub address: Option<Address>,
    pub lifecycle_stage: Option<String>,
    pub source: Option<String>,
    pub owner_id: Option<String>,
    pub tags: Option<Vec<String>>,
    pub custom: Option<Custom>,
    pub consent: Option<Consent>,
    pub external_id: Option<String>,
}

/// A validated, normalised contact (no id or times yet).
#[derive(Debug, Clone, PartialEq)]
pub struct ContactData {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<EmailEntry>,
    pub phones: Vec<PhoneEntry>,
    pub title: Option<String>,
    pub company_id: Option<String>,
    pub company: Option<String>,
    pub company_ids: Vec<String>,
    pub address: Option<Address>,
    pub lifecycle_stage: Lifecycle,
    pub source: Option<String>,
    pub owner_id: Option<String>,
    pub tags: Vec<String>,
    pub custom: Custom,
    pub consent: Consent,
    pub external_id: Option<String>,
}

impl ContactData {
    pub fn email(&self) -> Option<&str> {
        self.emails.iter().find(|e| e.primary).map(|e| e.address.as_str())
    }
    pub fn phone(&self) -> Option<&str> {
        self.phones.iter().find(|p| p.primary).map(|p| p.number.as_str())
    }
}

const MAX_NAME: usize = 200;

fn max_len(field: &str, v: &Option<String>, max: usize, errors: &mut Vec<FieldError>) {
    if v.as_ref().is_some_and(|s| s.chars().count() > max) {
        errors.push(FieldError::new(field, &format!("must be at most {max} characters")));
    }
}

/// Tags: trimmed, at most 50 of at most 50 characters, unique ignoring case.
pub fn clean_tags(tags: Vec<String>, errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim().to_string();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 50 {
            errors.push(FieldError::new("tags", "each tag must be at most 50 characters"));
        } else if !out.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
            out.push(t);
        }
    }
    if out.len() > 50 {
        errors.push(FieldError::new("tags", "at most 50 tags"));
    }
    out
}

fn valid_ref(prefix: &str, field: &str, v: &Option<String>, errors: &mut Vec<FieldError>) {
    if let Some(id) = v {
        if !edge_http::ids::is_valid(prefix, id) {
            errors.push(FieldError::new(field, "is not an id of the right kind"));
        }
    }
}

impl ContactInput {
    pub fn validate(self, defs: &[FieldDef]) -> Result<ContactData, Vec<FieldError>> {
        let mut errors = Vec::new();
        let first_name = clean(self.first_name);
        let last_name = clean(self.last_name);
        max_len("first_name", &first_name, MAX_NAME, &mut errors);
        max_len("last_name", &last_name, MAX_NAME, &mut errors);

        // Emails: the `email` shortcut becomes (or replaces) the primary one.
        let mut emails: Vec<EmailEntry> = Vec::new();
        let shortcut = clean(self.email).map(|e| e.to_lowercase());
        for (i, e) in self.emails.unwrap_or_default().into_iter().enumerate() {
            let address = e.address.trim().to_lowercase();
            if address.is_empty() {
                continue;
            }
            if !is_email(&address) {
                errors.push(FieldError::new(&format!("emails.{i}.address"), "is not a valid email address"));
            } else if !emails.iter().any(|x| x.address == address) {
                emails.push(EmailEntry { address, label: clean(e.label), primary: e.primary });
            }
        }
        if let Some(e) = shortcut {
            if !is_email(&e) {
                errors.push(FieldError::new("email", "is not a valid email address"));
            } else {
                emails.retain(|x| x.address != e);
                emails.iter_mut().for_each(|x| x.primary = false);
                emails.insert(0, EmailEntry { address: e, label: None, primary: true });
            }
        }
        one_primary(&mut emails, |e| &mut e.primary);
        if emails.len() > 20 {
            errors.push(FieldError::new("emails", "at most 20 email addresses"));
        }

        let mut phones: Vec<PhoneEntry> = Vec::new();
        for (i, p) in self.phones.unwrap_or_default().into_iter().enumerate() {
            let number = p.number.trim().to_string();
            if number.is_empty() {
                continue;
            }
            if !is_phone(&number) {
                errors.push(FieldError::new(&format!("phones.{i}.number"), "is not a valid phone number"));
            } else if !phones.iter().any(|x| phone_key(&x.number) == phone_key(&number)) {
                phones.push(PhoneEntry { number, label: clean(p.label), primary: p.primary });
            }
        }
        if let Some(p) = clean(self.phone) {
            if !is_phone(&p) {
                errors.push(FieldError::new("phone", "is not a valid phone number"));
            } else {
                phones.retain(|x| phone_key(&x.number) != phone_key(&p));
                phones.iter_mut().for_each(|x| x.primary = false);
                phones.insert(0, PhoneEntry { number: p, label: None, primary: true });
            }
        }
        one_primary(&mut phones, |p| &mut p.primary);
        if phones.len() > 20 {
            errors.push(FieldError::new("phones", "at most 20 phone numbers"));
        }

        let title = clean(self.title);
        max_len("title", &title, MAX_NAME, &mut errors);
        let company_id = clean(self.company_id);
        valid_ref("co", "company_id", &company_id, &mut errors);
        let company = clean(self.company);
        max_len("company", &company, MAX_NAME, &mut errors);
        let mut company_ids: Vec<String> = company_id.iter().cloned().collect();
        for (i, id) in self.company_ids.unwrap_or_default().into_iter().enumerate() {
            let id = id.trim().to_string();
            if !edge_http::ids::is_valid("co", &id) {
                errors.push(FieldError::new(&format!("company_ids.{i}"), "is not a company id"));
            } else if !company_ids.contains(&id) {
                company_ids.push(id);
            }
        }
        let company_id = company_ids.first().cloned();
        let address = self.address.and_then(|a| a.clean("address", &mut errors));
        let lifecycle_stage = match self.lifecycle_stage.as_deref().map(str::trim) {
            None | Some("") => Lifecycle::default(),
            Some(s) => Lifecycle::parse(s).unwrap_or_else(|| {
                errors.push(FieldError::new("lifecycle_stage", "must be one of subscriber, lead, qualified, opportunity, customer, advocate, churned"));
                Lifecycle::default()
            }),
        };
        let source = clean(self.source);
        max_len("source", &source, 100, &mut errors);
        let owner_id = clean(self.owner_id);
        valid_ref("u", "owner_id", &owner_id, &mut errors);
        let tags = clean_tags(self.tags.unwrap_or_default(), &mut errors);
        let custom = custom_values(defs, self.custom.unwrap_or_default(), &mut errors);
        let external_id = clean(self.external_id);
        max_len("external_id", &external_id, 200, &mut errors);
        if first_name.is_none() && last_name.is_none() && emails.is_empty() {
            errors.push(FieldError::new("first_name", "a contact needs a name or an email address"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ContactData {
            first_name,
            last_name,
            emails,
            phones,
            title,
            company_id,
            company,
            company_ids,
            address,
            lifecycle_stage,
            source,
            owner_id,
            tags,
            custom,
            consent: self.consent.unwrap_or_default(),
            external_id,
        })
    }
}

/// Custom values checked against the definitions; problems go to `errors`.
fn custom_values(defs: &[FieldDef], custom: Custom, errors: &mut Vec<FieldError>) -> Custom {
    check_custom(defs, &custom).unwrap_or_else(|e| {
        errors.extend(e);
        Map::new()
    })
}

/// Exactly one entry is primary when there are any: the first marked, else the first.
fn one_primary<T>(items: &mut [T], flag: impl Fn(&mut T) -> &mut bool) {
    let first = items.iter_mut().position(|i| *flag(i)).unwrap_or(0);
    for (i, item) in items.iter_mut().enumerate() {
        *flag(item) = i == first;
    }
}

/// Applies a JSON merge patch (RFC 7386) to `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

/// Company size bands.
pub const SIZES: [&str; 7] = ["1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5000+"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Company {
    pub id: String,
    pub name: String,
    /// The primary domain (also first in `domains`).
    pub domain: Option<String>,
    pub domains: Vec<String>,
    pub industry: Option<String>,
    pub size: Option<String>,
    pub address: Option<Address>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub owner_id: Option<String>,
    pub tags: Vec<String>,
    pub custom: Custom,
    pub parent_id: Option<String>,
    pub external_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_activity_at: Option<String>,
    pub deleted_at: Option<String>,
    pub version: i64,
}

impl Company {
    pub fn to_input(&self) -> Value {
        serde_json::json!({
            "name": self.name, "domains": self.domains, "industry": self.industry, "size": self.size,
            "address": self.address, "phone": self.phone, "website": self.website, "owner_id": self.owner_id,
            "tags": self.tags, "custom": self.custom, "parent_id": self.parent_id, "external_id": self.external_id,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyInput {
    pub name: Option<String>,
    /// Shortcut for the primary domain.
    pub domain: Option<String>,
    pub domains: Option<Vec<String>>,
    pub industry: Option<String>,
    pub size: Option<String>,
    pub address: Option<Address>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub owner_id: Option<String>,
    pub tags: Option<Vec<String>>,
    pub custom: Option<Custom>,
    pub parent_id: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompanyData {
    pub name: String,
    pub domains: Vec<String>,
    pub industry: Option<String>,
    pub size: Option<String>,
    pub address: Option<Address>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub owner_id: Option<String>,
    pub tags: Vec<String>,
    pub custom: Custom,
    pub parent_id: Option<String>,
    pub external_id: Option<String>,
}

/// `https://www.Acme.com/about` → `acme.com`.
pub fn normalize_domain(s: &str) -> String {
    let s = s.trim().to_lowercase();
    let s = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).unwrap_or(&s);
    let host = s.split(['/', '?', '#', ':']).next().unwrap_or("");
    host.strip_prefix("www.").unwrap_or(host).trim_end_matches('.').to_string()
}

pub fn is_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') && !l.starts_with('-') && !l.ends_with('-'))
}

impl CompanyInput {
    pub fn validate(self, defs: &[FieldDef]) -> Result<CompanyData, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = clean(self.name).unwrap_or_default();
        if name.is_empty() {
            errors.push(FieldError::new("name", "is required"));
        }
        max_len("name", &Some(name.clone()), MAX_NAME, &mut errors);
        let mut domains: Vec<String> = Vec::new();
        let shortcut = clean(self.domain).map(|d| normalize_domain(&d));
        for (i, d) in shortcut.iter().cloned().chain(self.domains.unwrap_or_default().iter().map(|d| normalize_domain(d))).enumerate() {
            if d.is_empty() {
                continue;
            }
            if !is_domain(&d) {
                let field = if shortcut.is_some() && i == 0 { "domain".to_string() } else { format!("domains.{}", i - shortcut.is_some() as usize) };
                errors.push(FieldError::new(&field, "is not a domain name such as acme.com"));
            } else if !domains.contains(&d) {
                domains.push(d);
            }
        }
        if domains.len() > 20 {
            errors.push(FieldError::new("domains", "at most 20 domains"));
        }
        let industry = clean(self.industry);
        max_len("industry", &industry, 100, &mut errors);
        let size = clean(self.size);
        if size.as_deref().is_some_and(|s| !SIZES.contains(&s)) {
            errors.push(FieldError::new("size", &format!("must be one of {}", SIZES.join(", "))));
        }
        let address = self.address.and_then(|a| a.clean("address", &mut errors));
        let phone = clean(self.phone);
        if phone.as_deref().is_some_and(|p| !is_phone(p)) {
            errors.push(FieldError::new("phone", "is not a valid phone number"));
        }
        let website = clean(self.website);
        if website.as_deref().is_some_and(|w| !crate::fields::is_url(w)) {
            errors.push(FieldError::new("website", "must be an http(s) URL"));
        }
        let owner_id = clean(self.owner_id);
        valid_ref("u", "owner_id", &owner_id, &mut errors);
        let parent_id = clean(self.parent_id);
        valid_ref("co", "parent_id", &parent_id, &mut errors);
        let tags = clean_tags(self.tags.unwrap_or_default(), &mut errors);
        let custom = custom_values(defs, self.custom.unwrap_or_default(), &mut errors);
        let external_id = clean(self.external_id);
        max_len("external_id", &external_id, 200, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CompanyData { name, domains, industry, size, address, phone, website, owner_id, tags, custom, parent_id, external_id })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityKind {
    Note,
    Call,
    Meeting,
    Email,
    Task,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Note => "note",
            ActivityKind::Call => "call",
            ActivityKind::Meeting => "meeting",
            ActivityKind::Email => "email",
            ActivityKind::Task => "task",
        }
    }
    pub fn parse(s: &str) -> Option<ActivityKind> {
        [ActivityKind::Note, ActivityKind::Call, ActivityKind::Meeting, ActivityKind::Email, ActivityKind::Task].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: String,
    pub kind: ActivityKind,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub deal_id: Option<String>,
    /// When it happened (notes, calls, meetings, emails) or was created (tasks).
    pub occurred_at: String,
    /// Tasks: due date-time, assignee, reminder, completion.
    pub due_at: Option<String>,
    pub assignee_id: Option<String>,
    pub reminder_at: Option<String>,
    pub done_at: Option<String>,
    pub owner_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

impl Activity {
    pub fn to_input(&self) -> Value {
        serde_json::json!({
            "kind": self.kind, "subject": self.subject, "body": self.body, "contact_id": self.contact_id,
            "company_id": self.company_id, "deal_id": self.deal_id, "occurred_at": self.occurred_at,
            "due_at": self.due_at, "assignee_id": self.assignee_id, "reminder_at": self.reminder_at,
            "done": self.done_at.is_some(),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityInput {
    pub kind: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub deal_id: Option<String>,
    pub occurred_at: Option<String>,
    pub due_at: Option<String>,
    pub assignee_id: Option<String>,
    pub reminder_at: Option<String>,
    pub done: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityData {
    pub kind: ActivityKind,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub deal_id: Option<String>,
    pub occurred_at: Option<String>,
    pub due_at: Option<String>,
    pub assignee_id: Option<String>,
    pub reminder_at: Option<String>,
    pub done: bool,
}

/// RFC 3339 in UTC, normalised to milliseconds (`2024-05-01T09:30:00.000Z`).
pub fn parse_time(s: &str) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

impl ActivityInput {
    pub fn validate(self) -> Result<ActivityData, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = match self.kind.as_deref().and_then(ActivityKind::parse) {
            Some(k) => k,
            None => {
                errors.push(FieldError::new("kind", "must be note, call, meeting, email or task"));
                ActivityKind::Note
            }
        };
        let subject = clean(self.subject);
        max_len("subject", &subject, 300, &mut errors);
        let body = self.body.map(|b| b.trim().to_string()).filter(|b| !b.is_empty());
        max_len("body", &body, 100_000, &mut errors);
        let contact_id = clean(self.contact_id);
        valid_ref("c", "contact_id", &contact_id, &mut errors);
        let company_id = clean(self.company_id);
        valid_ref("co", "company_id", &company_id, &mut errors);
        let deal_id = clean(self.deal_id);
        valid_ref("d", "deal_id", &deal_id, &mut errors);
        let assignee_id = clean(self.assignee_id);
        valid_ref("u", "assignee_id", &assignee_id, &mut errors);
        let mut time = |field: &str, v: Option<String>| -> Option<String> {
            let v = clean(v)?;
            let t = parse_time(&v);
            if t.is_none() {
                errors.push(FieldError::new(field, "must be an RFC 3339 time such as 2024-05-01T09:30:00Z"));
            }
            t
        };
        let occurred_at = time("occurred_at", self.occurred_at);
        let due_at = time("due_at", self.due_at);
        let reminder_at = time("reminder_at", self.reminder_at);
        if kind != ActivityKind::Task && (due_at.is_some() || reminder_at.is_some() || self.done == Some(true)) {
            errors.push(FieldError::new("due_at", "only tasks have a due date, reminder or completion"));
        }
        if kind == ActivityKind::Task && subject.is_none() {
            errors.push(FieldError::new("subject", "a task needs a subject"));
        }
        if kind == ActivityKind::Note && body.is_none() {
            errors.push(FieldError::new("body", "a note needs text"));
        }
        if contact_id.is_none() && company_id.is_none() && deal_id.is_none() {
            errors.push(FieldError::new("contact_id", "an activity is linked to a contact, a company or a deal"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ActivityData { kind, subject, body, contact_id, company_id, deal_id, occurred_at, due_at, assignee_id, reminder_at, done: self.done.unwrap_or(false) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{tests::def, Kind};
    use serde_json::json;

    fn contact(v: Value) -> Result<ContactData, Vec<FieldError>> {
        serde_json::from_value::<ContactInput>(v).unwrap().validate(&[def("tier", Kind::Select, &["gold"])])
    }

    #[test]
    fn unlinking_the_primary_company_promotes_the_next_link() {
        let a = "co_01HAAAAAAAAAAAAAAAAAAAAAAA";
        let b = "co_01HBBBBBBBBBBBBBBBBBBBBBBB";
        let c = contact(json!({"first_name": "X", "company_id": a, "company_ids": [b]})).unwrap();
        assert_eq!(c.company_ids, vec![a, b]);
        let stored = Contact {
            id: "c_1".into(), first_name: Some("X".into()), last_name: None, email: None, phone: None, emails: vec![], phones: vec![], title: None,
            company_id: Some(a.into()), company: Some("A".into()), company_ids: vec![a.into(), b.into()], address: None, lifecycle_stage: Lifecycle::Lead,
            source: None, owner_id: None, tags: vec![], custom: Map::new(), consent: Consent::default(), external_id: None, created_at: String::new(),
            updated_at: String::new(), last_activity_at: None, deleted_at: None, version: 1,
        };
        let mut input = stored.to_input();
        merge_patch(&mut input, &json!({"company_id": null, "company": null}));
        let after = serde_json::from_value::<ContactInput>(input).unwrap().validate(&[]).unwrap();
        assert_eq!((after.company_id.as_deref(), after.company_ids.len()), (Some(b), 1));
    }

    #[test]
    fn contacts_normalise_emails_phones_and_tags() {
        let c = contact(json!({
            "first_name": " Ada ", "email": "ADA@Example.com",
            "emails": [{"address": "ada@work.example", "label": "work", "primary": true}, {"address": "ada@example.com"}],
            "phones": [{"number": "+44 20 7946 0958"}, {"number": "+44 (20) 7946-0958"}],
            "tags": ["VIP", "vip", " new "], "custom": {"tier": "gold"}, "lifecycle_stage": "customer",
            "address": {"city": " London ", "country": "gb"}
        }))
        .unwrap();
        assert_eq!(c.email(), Some("ada@example.com"), "the shortcut is the primary email");
        assert_eq!(c.emails.len(), 2);
        assert_eq!(c.emails.iter().filter(|e| e.primary).count(), 1);
        assert_eq!(c.phones.len(), 1, "same digits, same phone");
        assert_eq!(c.phone(), Some("+44 20 7946 0958"));
        assert_eq!(c.tags, vec!["VIP", "new"]);
        assert_eq!(c.lifecycle_stage, Lifecycle::Customer);
        assert_eq!(c.address.unwrap().country.as_deref(), Some("GB"));
    }

    #[test]
    fn contacts_report_every_bad_field() {
        let errs = contact(json!({"email": "nope", "phones": [{"number": "call me"}], "lifecycle_stage": "vip",
            "custom": {"tier": "silver"}, "company_id": "x_1", "address": {"country": "Britain"}})).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in ["email", "phones.0.number", "lifecycle_stage", "custom.tier", "company_id", "address.country"] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        assert!(contact(json!({"company": "Acme"})).is_err(), "needs a name or email");
        assert!(serde_json::from_value::<ContactInput>(json!({"frist_name": "x"})).is_err());
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut v = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut v, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(v, json!({"a": "z", "c": {"d": "e"}}));
    }

    #[test]
    fn companies_normalise_domains() {
        let c: CompanyInput = serde_json::from_value(json!({"name": "Acme", "domain": "https://www.ACME.com/about", "domains": ["acme.com", "acme.co.uk"], "size": "51-200"})).unwrap();
        let c = c.validate(&[]).unwrap();
        assert_eq!(c.domains, vec!["acme.com", "acme.co.uk"]);
        let bad: CompanyInput = serde_json::from_value(json!({"name": " ", "domain": "not a domain", "size": "huge", "website": "ftp://x"})).unwrap();
        let fields: Vec<_> = bad.validate(&[]).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["name", "domain", "size", "website"]);
    }

    #[test]
    fn activities_by_kind() {
        let ok: ActivityInput = serde_json::from_value(json!({"kind": "task", "subject": "Call back", "contact_id": "c_01HZZZZZZZZZZZZZZZZZZZZZZZ", "due_at": "2024-05-01T09:30:00+02:00"})).unwrap();
        let t = ok.validate().unwrap();
        assert_eq!(t.due_at.as_deref(), Some("2024-05-01T07:30:00.000Z"));
        let bad: ActivityInput = serde_json::from_value(json!({"kind": "note", "due_at": "tomorrow"})).unwrap();
        let fields: Vec<_> = bad.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["due_at", "body", "contact_id"]);
    }
}
