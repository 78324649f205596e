//! Staff routes: templates (preview as a contact, test sends), campaigns
//! (schedule, unschedule, cancel, stats, messages), consent, suppressions and
//! a contact's email engagement.

use crate::{db, failed, sender};
use campaigns_domain::campaigns::{self, CampaignInput, ScheduleInput};
use campaigns_domain::sending::{self, Draft, Links};
use campaigns_domain::templates::{self, Content, TemplateInput};
use campaigns_domain::sequences::{self, SequenceInput};
use campaigns_domain::{consent, outbox};
use edge_component::{field_error, valid_id, with_etag, Ctx};
use edge_http::{query, Problem, Reply};
use spin_sdk::http::Method;

fn not_allowed() -> Problem {
    Problem::new(405, "method-not-allowed", "Method not allowed", "This resource does not take that method")
}

fn base_url(ctx: &Ctx) -> String {
    ctx.header("edge-base-url").unwrap_or_else(|| "http://localhost:3000".into())
}

/// The data merge fields read for a contact (as the caller may see it), or
/// a sample when none is chosen.
fn merge_data(ctx: &Ctx, contact_id: Option<&str>) -> Result<serde_json::Value, Problem> {
    let Some(id) = contact_id.filter(|c| !c.is_empty()) else {
        return Ok(serde_json::json!({"contact": {"first_name": "Alex", "last_name": "Sample", "email": "alex@example.com"}}));
    };
    if !edge_http::ids::is_valid("c", id) {
        return Err(field_error("contact_id", "is not a contact"));
    }
    let (status, _, v) = edge_component::call(ctx, Method::Get, "contacts", &format!("/api/v1/contacts/{id}"), None, &[], false)
        .map_err(|e| Problem::new(502, "upstream-failed", "Service unavailable", &format!("Contacts did not answer: {e}")))?;
    match status {
        200 => Ok(serde_json::json!({"contact": v})),
        404 => Err(field_error("contact_id", "is not a contact you can see")),
        s => Err(Problem::new(502, "upstream-failed", "Service unavailable", &format!("Contacts answered {s}"))),
    }
}

fn preview(ctx: &Ctx, content: &Content) -> Result<Reply, Problem> {
    let pairs = edge_http::query::parse(ctx.query());
    let mut data = merge_data(ctx, query::get(&pairs, "contact_id"))?;
    let base = base_url(ctx);
    let sample = format!("{base}/api/v1/mail/u/preview");
    data["unsubscribe_url"] = sample.clone().into();
    let r = templates::render(content, &data, None);
    let text = if r.text.contains("unsubscribe") { r.text } else { format!("{}\n\n--\nUnsubscribe or manage your preferences: {sample}\n", r.text.trim_end()) };
    Ok(Reply::json(200, &serde_json::json!({"subject": r.subject, "html": r.html, "text": text, "contact": data["contact"]})))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TestSend {
    to: String,
    contact_id: Option<String>,
}

/// Queues a test message (subject marked, not counted in any statistics).
fn test_send(ctx: &Ctx, db: &spin_sdk::sqlite::Connection, content: &Content) -> Result<Reply, Problem> {
    let t: TestSend = ctx.body()?;
    let to = t.to.trim().to_string();
    if !(to.contains('@') && to.len() <= 254 && !to.contains(char::is_whitespace)) {
        return Err(field_error("to", "must be an email address"));
    }
    let data = merge_data(ctx, t.contact_id.as_deref())?;
    let secret = sender::secret(db)?;
    let base = base_url(ctx);
    let links = Links { base_url: &base, secret: &secret };
    let mut content = content.clone();
    content.subject = format!("[Test] {}", content.subject);
    let w = ctx.writer();
    let id = edge_db::tx(db, || sending::queue(db, &w, &links, Draft { kind: "test", campaign_id: None, contact_id: None, variant: None, sequence: None, to: &to, content: &content, data: &data }, sender::now()))
        .map_err(failed("message"))?;
    sender::deliver(db)?;
    Ok(Reply::json(202, &serde_json::json!({"message_id": id, "to": to})))
}

pub fn templates(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    let fail = failed("template");
    match (ctx.method(), rest) {
        (Method::Get, []) => Ok(Reply::json(200, &serde_json::json!({"items": templates::list(&db).map_err(&fail)?, "next_cursor": null}))),
        (Method::Post, []) => {
            let input: TemplateInput = ctx.body()?;
            edge_component::once(ctx, &db, "campaigns_idempotency", || {
                let t = templates::create(&db, &w, input).map_err(&fail)?;
                Ok(with_etag(201, &t, t.version).with_header("location", format!("/api/v1/templates/{}", t.id)))
            })
        }
        // A preview of unsaved content, as the editor types: only the syntax
        // is checked (a half-written message is fine).
        (Method::Post, ["preview"]) => {
            let input: TemplateInput = ctx.body()?;
            let mut content = Content { subject: input.subject.unwrap_or_default(), html: input.html.unwrap_or_default(), text: input.text.unwrap_or_default() };
            let mut e = Vec::new();
            for (field, src) in [("subject", &content.subject), ("html", &content.html), ("text", &content.text)] {
                if let Err(s) = campaigns_domain::template::Template::parse(src) {
                    e.push(edge_http::FieldError::new(field, &format!("at character {}: {}", s.at, s.message)));
                }
            }
            if !e.is_empty() {
                return Err(Problem::validation(e));
            }
            if content.text.trim().is_empty() {
                content.text = templates::html_to_text(&content.html);
            }
            preview(ctx, &content)
        }
        (_, [id, tail @ ..]) => {
            valid_id(templates::ID_PREFIX, id, "template")?;
            let get = || templates::get(&db, id).map_err(&fail)?.ok_or_else(|| Problem::not_found("No template with this id"));
            match (ctx.method(), tail) {
                (Method::Get, []) => {
                    let t = get()?;
                    Ok(with_etag(200, &t, t.version))
                }
                (Method::Patch, []) => {
                    let t = templates::update(&db, &w, id, ctx.body()?, ctx.if_match()?).map_err(&fail)?;
                    Ok(with_etag(200, &t, t.version))
                }
                (Method::Delete, []) => templates::delete(&db, &w, id).map(|_| Reply::empty(204)).map_err(&fail),
                (Method::Get, ["preview"]) => preview(ctx, &get()?.content),
                (Method::Post, ["test"]) => test_send(ctx, &db, &get()?.content),
                _ => Err(not_allowed()),
            }
        }
        _ => Err(not_allowed()),
    }
}

pub fn campaigns(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    let fail = failed("campaign");
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let pairs = edge_http::query::parse(ctx.query());
            let status = query::get(&pairs, "status").filter(|s| !s.is_empty());
            if status.is_some_and(|s| !["draft", "scheduled", "sending", "sent", "cancelled"].contains(&s)) {
                return Err(field_error("status", "must be draft, scheduled, sending, sent or cancelled"));
            }
            let mut items = campaigns::list(&db, status).map_err(&fail)?;
            for c in items.iter_mut() {
                if c.status != "draft" {
                    c.stats = outbox::stats(&db, &c.id).map_err(&fail)?;
                }
            }
            Ok(Reply::json(200, &serde_json::json!({"items": items, "next_cursor": null})))
        }
        (Method::Post, []) => {
            let input: CampaignInput = ctx.body()?;
            edge_component::once(ctx, &db, "campaigns_idempotency", || {
                let c = campaigns::create(&db, &w, input).map_err(&fail)?;
                Ok(with_etag(201, &c, c.version).with_header("location", format!("/api/v1/campaigns/{}", c.id)))
            })
        }
        (_, [id, tail @ ..]) => {
            valid_id(campaigns::ID_PREFIX, id, "campaign")?;
            let get = || campaigns::get(&db, id).map_err(&fail)?.ok_or_else(|| Problem::not_found("No campaign with this id"));
            let answer = |c: campaigns::Campaign| Ok(with_etag(200, &c, c.version));
            match (ctx.method(), tail) {
                (Method::Get, []) => answer(get()?),
                (Method::Patch, []) => answer(campaigns::update(&db, &w, id, ctx.body()?, ctx.if_match()?).map_err(&fail)?),
                (Method::Delete, []) => campaigns::delete(&db, &w, id).map(|_| Reply::empty(204)).map_err(&fail),
                (Method::Post, ["schedule"]) => {
                    let input: ScheduleInput = if ctx.req.body().is_empty() { ScheduleInput::default() } else { ctx.body()? };
                    let now_send = input.send_at.is_none();
                    let c = campaigns::schedule(&db, &w, id, input, &base_url(ctx), sender::now(), ctx.if_match()?).map_err(&fail)?;
                    if now_send {
                        // Small audiences go out at once; the scheduler does the rest.
                        if let Err(p) = sender::advance(ctx) {
                            eprintln!("campaigns: first batch of {id}: {}", p.detail);
                        }
                        return answer(get()?);
                    }
                    answer(c)
                }
                (Method::Post, ["unschedule"]) => answer(campaigns::transition(&db, &w, id, "draft", ctx.if_match()?).map_err(&fail)?),
                (Method::Post, ["cancel"]) => answer(campaigns::transition(&db, &w, id, "cancelled", ctx.if_match()?).map_err(&fail)?),
                (Method::Get, ["stats"]) => {
                    get()?;
                    Ok(Reply::json(200, &outbox::stats(&db, id).map_err(&fail)?))
                }
                (Method::Get, ["messages"]) => {
                    get()?;
                    let as_sent = query::get(&edge_http::query::parse(ctx.query()), "as_sent") == Some("true");
                    Ok(Reply::json(200, &serde_json::json!({"items": outbox::list(&db, Some(id), 200, as_sent).map_err(&fail)?, "next_cursor": null})))
                }
                (Method::Get, ["preview"]) => preview(ctx, &get()?.content),
                (Method::Post, ["test"]) => test_send(ctx, &db, &get()?.content),
                _ => Err(not_allowed()),
            }
        }
        _ => Err(not_allowed()),
    }
}

pub fn consents(ctx: &Ctx, contact: &str) -> Result<Reply, Problem> {
    if !edge_http::ids::is_valid("c", contact) {
        return Err(Problem::not_found("No contact with this id"));
    }
    let db = db()?;
    let fail = failed("consent");
    let view = |db: &spin_sdk::sqlite::Connection| -> Result<Reply, Problem> {
        Ok(Reply::json(200, &serde_json::json!({
            "contact_id": contact, "channels": consent::of(db, contact).map_err(&fail)?, "history": consent::history(db, contact).map_err(&fail)?,
        })))
    };
    match ctx.method() {
        Method::Get => view(&db),
        Method::Post => {
            let input: consent::ConsentInput = ctx.body()?;
            // Only for a contact the caller can see.
            merge_data(ctx, Some(contact)).map_err(|p| if p.status == 422 { Problem::not_found("No contact with this id") } else { p })?;
            edge_db::tx(&db, || consent::record(&db, &ctx.actor, contact, &input)).map_err(&fail)?;
            sender::copy_consent_to_contact(ctx, contact, &input.channel, input.status == "granted");
            view(&db)
        }
        _ => Err(not_allowed()),
    }
}

pub fn suppressions(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let fail = failed("suppression");
    match (ctx.method(), rest) {
        (Method::Get, []) => {
            let pairs = edge_http::query::parse(ctx.query());
            Ok(Reply::json(200, &serde_json::json!({"items": consent::suppressions(&db, query::get(&pairs, "q"), 500).map_err(&fail)?, "next_cursor": null})))
        }
        (Method::Post, []) => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Add {
                email: String,
                reason: Option<String>,
            }
            let a: Add = ctx.body()?;
            consent::suppress(&db, &a.email, a.reason.as_deref().unwrap_or("manual"), Some(&ctx.actor)).map_err(&fail)?;
            Ok(Reply::json(201, &serde_json::json!({"email": consent::normalize_email(&a.email)})))
        }
        (Method::Delete, [email]) => {
            let email = edge_http::query::decode(email);
            if consent::unsuppress(&db, &email).map_err(&fail)? {
                Ok(Reply::empty(204))
            } else {
                Err(Problem::not_found("This address is not suppressed"))
            }
        }
        _ => Err(not_allowed()),
    }
}

pub fn engagement(ctx: &Ctx, contact: &str) -> Result<Reply, Problem> {
    if *ctx.method() != Method::Get {
        return Err(not_allowed());
    }
    if !edge_http::ids::is_valid("c", contact) {
        return Err(Problem::not_found("No contact with this id"));
    }
    // Only for a contact the caller can see.
    merge_data(ctx, Some(contact)).map_err(|p| if p.status == 422 { Problem::not_found("No contact with this id") } else { p })?;
    let db = db()?;
    let items = outbox::engagement(&db, contact, 100).map_err(failed("contact"))?;
    Ok(Reply::json(200, &serde_json::json!({"items": items})))
}

pub fn sequences(ctx: &Ctx, rest: &[&str]) -> Result<Reply, Problem> {
    let db = db()?;
    let w = ctx.writer();
    let fail = failed("sequence");
    match (ctx.method(), rest) {
        (Method::Get, []) => Ok(Reply::json(200, &serde_json::json!({"items": sequences::list(&db).map_err(&fail)?, "next_cursor": null}))),
        (Method::Post, []) => {
            let input: SequenceInput = ctx.body()?;
            if let Some(Some(goal)) = &input.goal {
                crate::count(ctx, goal).map_err(|p| rename_filter(p, "goal"))?; // the contacts component judges the rules
            }
            edge_component::once(ctx, &db, "campaigns_idempotency", || {
                let s = sequences::create(&db, &w, input).map_err(&fail)?;
                Ok(with_etag(201, &s, s.version).with_header("location", format!("/api/v1/sequences/{}", s.id)))
            })
        }
        (_, [id, tail @ ..]) => {
            valid_id(sequences::ID_PREFIX, id, "sequence")?;
            let get = || sequences::get(&db, id).map_err(&fail)?.ok_or_else(|| Problem::not_found("No sequence with this id"));
            let answer = |s: sequences::Sequence| Ok(with_etag(200, &s, s.version));
            match (ctx.method(), tail) {
                (Method::Get, []) => answer(get()?),
                (Method::Patch, []) => {
                    let input: SequenceInput = ctx.body()?;
                    if let Some(Some(goal)) = &input.goal {
                        crate::count(ctx, goal).map_err(|p| rename_filter(p, "goal"))?;
                    }
                    answer(sequences::update(&db, &w, id, input, ctx.if_match()?).map_err(&fail)?)
                }
                (Method::Delete, []) => sequences::delete(&db, &w, id).map(|_| Reply::empty(204)).map_err(&fail),
                (Method::Post, ["activate"]) => {
                    let s = sequences::set_status(&db, &w, id, "active", &base_url(ctx), ctx.if_match()?).map_err(&fail)?;
                    // Members enter, and first steps without a delay go out, at once.
                    if let Err(p) = sender::advance(ctx) {
                        eprintln!("campaigns: first round of {id}: {}", p.detail);
                    }
                    let _ = s;
                    answer(get()?)
                }
                (Method::Post, ["pause"]) => answer(sequences::set_status(&db, &w, id, "paused", "", ctx.if_match()?).map_err(&fail)?),
                (Method::Get, ["enrolments"]) => {
                    get()?;
                    Ok(Reply::json(200, &serde_json::json!({"items": sequences::enrolments(&db, id, 500).map_err(&fail)?, "next_cursor": null})))
                }
                (Method::Delete, ["enrolments", contact]) => {
                    get()?;
                    edge_db::tx(&db, || sequences::exit_everywhere(&db, contact, "removed", Some(id), sender::now())).map_err(&fail)?;
                    Ok(Reply::empty(204))
                }
                (Method::Get, ["stats"]) => {
                    let s = get()?;
                    Ok(Reply::json(200, &serde_json::json!({"enrolments": s.enrolments, "steps": sequences::step_stats(&db, id).map_err(&fail)?})))
                }
                _ => Err(not_allowed()),
            }
        }
        _ => Err(not_allowed()),
    }
}

/// The contacts component's errors about a filter, named for the field that holds it.
fn rename_filter(mut p: Problem, field: &str) -> Problem {
    for e in p.errors.iter_mut() {
        if e.field == "filter" {
            e.field = field.to_string();
        }
    }
    p
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ForRule {
    contact_id: String,
    template_id: Option<String>,
    sequence_id: Option<String>,
    /// Once per key (a rule run's action).
    key: String,
}

/// The contact as the platform sees it (rules act for the platform).
fn contact_for_rule(ctx: &Ctx, id: &str) -> Result<serde_json::Value, Problem> {
    if !edge_http::ids::is_valid("c", id) {
        return Err(field_error("contact_id", "is not a contact"));
    }
    let (status, _, v) = edge_component::call(ctx, Method::Get, "contacts", &format!("/api/v1/contacts/{id}"), None, &[], true)
        .map_err(|e| Problem::new(502, "upstream-failed", "Service unavailable", &format!("Contacts did not answer: {e}")))?;
    match status {
        200 => Ok(v),
        404 => Err(Problem::not_found("No contact with this id")),
        s => Err(Problem::new(502, "upstream-failed", "Service unavailable", &format!("Contacts answered {s}"))),
    }
}

/// A rule's email (`POST /internal/send {contact_id, template_id, key}`):
/// the template rendered for the contact into the outbox, unless consent or
/// suppression forbids it (answered as skipped, with why). Once per key.
pub fn send_for_rule(ctx: &Ctx) -> Result<Reply, Problem> {
    let r: ForRule = ctx.body()?;
    let db = db()?;
    let fail = failed("message");
    let key = format!("rule-send-{}", r.key);
    if let Some((status, body)) = edge_db::record::idempotent_answer(&db, "campaigns_idempotency", &key).map_err(&fail)? {
        return Ok(Reply { status, headers: vec![("content-type".into(), "application/json".into())], body: body.into_bytes() });
    }
    let template = r.template_id.as_deref().map(|t| templates::get(&db, t)).transpose().map_err(&fail)?.flatten().ok_or_else(|| field_error("template_id", "is not a template"))?;
    let contact = contact_for_rule(ctx, &r.contact_id)?;
    let secret = sender::secret(&db)?;
    let base = base_url(ctx);
    let links = Links { base_url: &base, secret: &secret };
    let w = edge_db::record::Writer { actor: "system:automation", request_id: ctx.request_id.as_deref(), random: &|| edge_component::random_bytes::<10>() };
    let answer = edge_db::tx(&db, || {
        let email = contact["email"].as_str();
        let answer = match consent::blocked(&db, &r.contact_id, email)? {
            Some(reason) => serde_json::json!({"skipped": reason}),
            None => {
                let data = serde_json::json!({"contact": contact});
                let d = Draft { kind: "automation", campaign_id: None, contact_id: Some(&r.contact_id), variant: None, sequence: None, to: email.unwrap_or_default(), content: &template.content, data: &data };
                serde_json::json!({"message_id": sending::queue(&db, &w, &links, d, sender::now())?})
            }
        };
        edge_db::record::save_idempotent_answer(&db, "campaigns_idempotency", &key, 200, &answer.to_string())?;
        Ok(answer)
    })
    .map_err(&fail)?;
    sender::deliver(&db)?;
    Ok(Reply::json(200, &answer))
}

/// A rule's enrolment (`POST /internal/enrol {contact_id, sequence_id, key}`).
pub fn enrol_for_rule(ctx: &Ctx) -> Result<Reply, Problem> {
    let r: ForRule = ctx.body()?;
    let db = db()?;
    let fail = failed("sequence");
    let seq = r.sequence_id.as_deref().map(|s| sequences::get(&db, s)).transpose().map_err(&fail)?.flatten().ok_or_else(|| field_error("sequence_id", "is not a sequence"))?;
    let contact = contact_for_rule(ctx, &r.contact_id)?;
    let entered = edge_db::tx(&db, || sequences::enrol_one(&db, &seq, &contact, sender::now())).map_err(&fail)?;
    Ok(Reply::json(200, &serde_json::json!({"entered": entered, "sequence_status": seq.status})))
}
