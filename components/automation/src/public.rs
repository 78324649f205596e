//! The public side of forms: the hosted page, the embed script, and
//! submissions (a plain HTML form post gets a page or a redirect; a script
//! asking for JSON gets JSON, readable cross-origin). Nothing here needs a
//! session; spam and bad input create nothing.

use crate::{db, failed};
use automation_domain::forms::{self, Form};
use automation_domain::submissions::{self, Verdict, HONEYPOT};
use edge_component::Ctx;
use edge_http::html::escape as esc;
use edge_http::{Problem, Reply};
use serde_json::{json, Map, Value};
use spin_sdk::http::Method;

fn active_form(id: &str) -> Result<Form, Problem> {
    if !edge_http::ids::is_valid(forms::ID_PREFIX, id) {
        return Err(Problem::not_found("No such form"));
    }
    let db = db()?;
    forms::get(&db, id).map_err(failed("form"))?.filter(|f| f.status == "active").ok_or_else(|| Problem::not_found("This form is not taking submissions"))
}

/// The form's fields as HTML (labels, inputs, the consent checkbox, the honeypot).
fn fields_html(f: &Form, action: &str, context: &Map<String, Value>) -> String {
    let mut h = format!("<form class=\"edge-form\" method=\"post\" action=\"{}\" accept-charset=\"utf-8\">", esc(action));
    for (i, field) in f.def.fields.iter().enumerate() {
        let id = format!("ef-{}-{i}", f.id);
        let req = if field.required { " required" } else { "" };
        let star = if field.required { " <span aria-hidden=\"true\">*</span>" } else { "" };
        let ph = field.placeholder.as_deref().map(|p| format!(" placeholder=\"{}\"", esc(p))).unwrap_or_default();
        let name = esc(&field.key);
        let label = esc(&field.label);
        let input = match field.kind.as_str() {
            "textarea" => format!("<textarea id=\"{id}\" name=\"{name}\" rows=\"4\" maxlength=\"5000\"{req}{ph}></textarea>"),
            "select" => {
                let opts: String = field.options.iter().map(|o| format!("<option>{}</option>", esc(o))).collect();
                format!("<select id=\"{id}\" name=\"{name}\"{req}><option value=\"\"></option>{opts}</select>")
            }
            "checkbox" => format!("<input id=\"{id}\" type=\"checkbox\" name=\"{name}\"{req}>"),
            kind => {
                let auto = match field.key.as_str() {
                    "email" => " autocomplete=\"email\"",
                    "first_name" => " autocomplete=\"given-name\"",
                    "last_name" => " autocomplete=\"family-name\"",
                    "phone" => " autocomplete=\"tel\"",
                    "company" => " autocomplete=\"organization\"",
                    _ => "",
                };
                format!("<input id=\"{id}\" type=\"{kind}\" name=\"{name}\" maxlength=\"300\"{auto}{req}{ph}>")
            }
        };
        h.push_str(&format!("<p class=\"edge-field\"><label for=\"{id}\">{label}{star}</label>{input}</p>"));
    }
    if f.def.consent.enabled {
        let req = if f.def.consent.required { " required" } else { "" };
        h.push_str(&format!("<p class=\"edge-consent\"><label><input type=\"checkbox\" name=\"consent\"{req}> {}</label></p>", esc(&f.def.consent.wording)));
    }
    // Hidden from people (and from assistive technology), filled by bots.
    h.push_str(&format!("<p style=\"position:absolute;left:-10000px\" aria-hidden=\"true\"><label>Website <input type=\"text\" name=\"{HONEYPOT}\" tabindex=\"-1\" autocomplete=\"off\"></label></p>"));
    for (k, v) in context {
        h.push_str(&format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v.as_str().unwrap_or_default())));
    }
    h.push_str(&format!("<p><button type=\"submit\">{}</button></p></form>", esc(f.def.submit_label.as_deref().unwrap_or("Send"))));
    h
}

fn html_page(status: u16, title: &str, body: &str) -> Reply {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1f2933}}h1{{font-size:1.4rem}}\
         .edge-field label{{display:block;font-weight:600;margin-bottom:.2rem}}input,select,textarea{{font:inherit;width:100%;box-sizing:border-box;padding:.45rem;border:1px solid #9aa5b1;border-radius:6px}}\
         .edge-consent input,.edge-field input[type=checkbox]{{width:auto}}button{{font:inherit;padding:.55rem 1.2rem;border-radius:6px;border:0;background:#1f4fd1;color:#fff;cursor:pointer}}\
         .errors{{color:#b42318}}@media(prefers-color-scheme:dark){{body{{background:#111;color:#eee}}input,select,textarea{{background:#1b1b1b;color:#eee}}}}</style>\
         </head><body><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    );
    Reply { status, headers: vec![("content-type".into(), "text/html; charset=utf-8".into()), ("cache-control".into(), "no-store".into())], body: page.into_bytes() }
}

fn query_context(ctx: &Ctx) -> Map<String, Value> {
    let pairs = edge_http::query::parse(ctx.query());
    let mut m = Map::new();
    for k in submissions::CONTEXT_KEYS.iter().filter(|k| k.starts_with("utm_")) {
        if let Some(v) = edge_http::query::get(&pairs, k).filter(|v| !v.is_empty()) {
            m.insert(k.to_string(), v.chars().take(200).collect::<String>().into());
        }
    }
    m
}

/// The hosted page: the form on its own, at the tenant's address.
pub fn page(ctx: &Ctx, id: &str) -> Result<Reply, Problem> {
    let f = active_form(id)?;
    let mut context = query_context(ctx);
    if let Some(base) = ctx.header("edge-base-url") {
        context.insert("page".into(), format!("{base}/api/v1/forms/{id}/page").into());
    }
    Ok(html_page(200, &f.name, &fields_html(&f, &format!("/api/v1/forms/{id}/submit"), &context)))
}

/// The embed script: renders the form where `<div data-edge-form="<id>">`
/// is, submits it without leaving the page, and shows the answer there.
pub fn script(ctx: &Ctx, id: &str) -> Result<Reply, Problem> {
    let f = active_form(id)?;
    let base = ctx.header("edge-base-url").unwrap_or_default();
    let action = format!("{base}/api/v1/forms/{id}/submit");
    let form_html = fields_html(&f, &action, &Map::new());
    let js = format!(
        r#"(function () {{
  var id = {id_js}, html = {html_js};
  var el = document.querySelector('[data-edge-form="' + id + '"]');
  if (!el) return;
  el.innerHTML = html;
  var form = el.querySelector('form');
  var add = function (k, v) {{ if (!v) return; var i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; form.appendChild(i); }};
  add('page', location.href);
  add('referrer', document.referrer);
  var q = new URLSearchParams(location.search);
  ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'].forEach(function (k) {{ add(k, q.get(k)); }});
  form.addEventListener('submit', function (ev) {{
    if (!window.fetch) return;
    ev.preventDefault();
    var button = form.querySelector('button');
    button.disabled = true;
    fetch(form.action, {{ method: 'POST', body: new URLSearchParams(new FormData(form)), headers: {{ Accept: 'application/json' }} }})
      .then(function (r) {{ return r.json().then(function (b) {{ return {{ ok: r.ok, body: b }}; }}); }})
      .then(function (r) {{
        if (r.ok && r.body.redirect_url) {{ location.href = r.body.redirect_url; return; }}
        if (r.ok) {{ el.textContent = r.body.message; return; }}
        button.disabled = false;
        var p = form.querySelector('.edge-errors') || form.insertBefore(document.createElement('p'), form.firstChild);
        p.className = 'edge-errors'; p.setAttribute('role', 'alert');
        p.textContent = (r.body.errors || []).map(function (e) {{ return e.message; }}).join(' ') || r.body.detail || 'Please try again.';
      }})
      .catch(function () {{ button.disabled = false; }});
  }});
}})();
"#,
        id_js = Value::from(id),
        html_js = Value::from(form_html),
    );
    Ok(Reply { status: 200, headers: vec![("content-type".into(), "text/javascript; charset=utf-8".into()), ("cache-control".into(), "no-cache".into()), ("access-control-allow-origin".into(), "*".into())], body: js.into_bytes() })
}

/// What staff paste into a website: a plain HTML form, or a div and the script.
pub fn snippets(f: &Form, base: &str) -> Value {
    let action = format!("{base}/api/v1/forms/{}/submit", f.id);
    json!({
        "page_url": format!("{base}/api/v1/forms/{}/page", f.id),
        "html": fields_html(f, &action, &Map::new()),
        "script": format!("<div data-edge-form=\"{id}\"></div>\n<script src=\"{base}/api/v1/forms/{id}/embed.js\" async></script>", id = f.id),
    })
}

fn wants_json(ctx: &Ctx) -> bool {
    ctx.header("accept").is_some_and(|a| a.contains("application/json")) || ctx.header("content-type").is_some_and(|c| c.starts_with("application/json"))
}

fn cors(r: Reply) -> Reply {
    r.with_header("access-control-allow-origin", "*")
}

/// The posted fields as text values (form-urlencoded or JSON).
fn posted(ctx: &Ctx) -> Result<Map<String, Value>, Problem> {
    let body = ctx.req.body();
    if body.len() > submissions::MAX_BYTES {
        return Err(Problem::payload_too_large(submissions::MAX_BYTES));
    }
    if ctx.header("content-type").is_some_and(|c| c.starts_with("application/json")) {
        let v = ctx.json()?;
        return Ok(v.as_object().cloned().unwrap_or_default());
    }
    let text = std::str::from_utf8(body).map_err(|_| Problem::bad_request("The form data is not UTF-8"))?;
    let mut m = Map::new();
    for (k, v) in edge_http::query::parse(text) {
        if m.len() >= 60 {
            return Err(Problem::bad_request("Too many fields"));
        }
        m.insert(k, Value::String(v));
    }
    Ok(m)
}

fn thanks(ctx: &Ctx, f: &Form, status: u16) -> Reply {
    let message = f.def.thank_you.clone().unwrap_or_else(|| "Thank you! We will be in touch soon.".into());
    if wants_json(ctx) {
        return cors(Reply::json(status, &json!({"message": message, "redirect_url": f.def.redirect_url})));
    }
    match &f.def.redirect_url {
        Some(u) => Reply::empty(303).with_header("location", u.clone()),
        None => html_page(status, &f.name, &format!("<p role=\"status\">{}</p>", esc(&message))),
    }
}

fn rejected(ctx: &Ctx, f: &Form, p: Problem) -> Result<Reply, Problem> {
    if wants_json(ctx) {
        return Err(p);
    }
    let items: String = if p.errors.is_empty() { format!("<li>{}</li>", esc(&p.detail)) } else { p.errors.iter().map(|e| format!("<li>{}</li>", esc(&e.message))).collect() };
    Ok(html_page(p.status, &f.name, &format!("<div class=\"errors\" role=\"alert\"><p>Please check your answers:</p><ul>{items}</ul></div><p><a href=\"javascript:history.back()\">Back to the form</a></p>")))
}

pub fn submit(ctx: &Ctx, id: &str) -> Result<Reply, Problem> {
    if *ctx.method() == Method::Options {
        return Ok(cors(Reply::empty(204)).with_header("access-control-allow-methods", "POST").with_header("access-control-allow-headers", "content-type, accept"));
    }
    if *ctx.method() != Method::Post {
        return Err(Problem::new(405, "method-not-allowed", "Method not allowed", "Submit the form with POST"));
    }
    let f = active_form(id)?;
    let mut input = match posted(ctx) {
        Ok(i) => i,
        Err(p) => return rejected(ctx, &f, p).map(cors),
    };
    // A plain HTML post says where it came from only in its Referer.
    if !input.contains_key("page") {
        if let Some(r) = ctx.header("referer").filter(|r| r.starts_with("http")) {
            input.insert("page".into(), Value::String(r));
        }
    }
    let client = submissions::client_key(&ctx.header("edge-client-addr").unwrap_or_default());
    let now = chrono::Utc::now();
    let db = db()?;
    let w = edge_db::record::Writer { actor: "system:forms", request_id: ctx.request_id.as_deref(), random: &|| edge_component::random_bytes::<10>() };
    let mut verdict = submissions::judge(&f, &input);
    if let Verdict::Invalid(errors) = verdict {
        return rejected(ctx, &f, Problem::validation(errors)).map(cors);
    }
    // Custom fields take their own types (numbers, amounts, several choices).
    if let Verdict::Accepted { values, .. } = &mut verdict {
        if let Err(errors) = crate::leads::type_custom(ctx, &f, values) {
            return rejected(ctx, &f, errors).map(cors);
        }
    }
    // Counted, judged and recorded in one transaction; contacts are asked after it commits.
    let fail = failed("form");
    let outcome = edge_db::tx(&db, || {
        if !submissions::within_rate(&db, &f.id, &client, now.timestamp())? {
            submissions::record(&db, &w, &f.id, "spam", Some("rate-limit"), &Value::Null, &Value::Null, &client)?;
            return Ok(None);
        }
        match &verdict {
            Verdict::Spam(reason) => {
                submissions::record(&db, &w, &f.id, "spam", Some(reason), &Value::Object(input.clone()), &Value::Null, &client)?;
                Ok(Some(None))
            }
            Verdict::Accepted { values, consent, context } => {
                let owner = submissions::assign(&db, &f, values)?;
                let data = json!({"values": values, "consent": consent, "consent_wording": f.def.consent.enabled.then(|| f.def.consent.wording.clone())});
                let sid = submissions::record(&db, &w, &f.id, "accepted", None, &data, &Value::Object(context.clone()), &client)?;
                Ok(Some(Some((sid, owner))))
            }
            Verdict::Invalid(_) => Ok(Some(None)),
        }
    })
    .map_err(&fail)?;
    let (sid, owner) = match outcome {
        None => return rejected(ctx, &f, Problem::new(429, "rate-limited", "Too many submissions", "Too many submissions from here: please try again in a few minutes.")).map(cors),
        // Spam is told nothing it could learn from.
        Some(None) => return Ok(thanks(ctx, &f, 200)),
        Some(Some(x)) => x,
    };
    let Verdict::Accepted { values, consent, context } = verdict else { return Ok(thanks(ctx, &f, 200)) };
    let outcome = crate::leads::upsert(ctx, &f, &sid, &values, consent, owner.as_deref()).and_then(|(contact_id, owner)| {
        let (subject, body) = submissions::note(&f, &values, consent, &context);
        crate::leads::note(ctx, &sid, &contact_id, &subject, &body)?;
        Ok((contact_id, owner))
    });
    let (contact_id, owner) = match outcome {
        Ok(x) => x,
        Err(p) => {
            // Kept for staff with the reason; the visitor is asked to try again, and is told nothing internal.
            eprintln!("automation: submission {sid}: {}", p.detail);
            let _ = submissions::failed(&db, &sid, &p.detail);
            return rejected(ctx, &f, Problem::new(503, "try-again", "Not saved", "Your answers could not be saved just now. Please try again in a minute.")).map(cors);
        }
    };
    submissions::processed(&db, &sid, &contact_id, owner.as_deref()).map_err(&fail)?;
    if f.def.notify_owner {
        if let Some(o) = &owner {
            crate::leads::notify(ctx, o, &f, &contact_id, &values);
        }
    }
    Ok(thanks(ctx, &f, 201))
}
