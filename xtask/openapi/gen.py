#!/usr/bin/env python3
"""Writes static/openapi.json from the route table below (run after changing routes;
the e2e test `openapi_describes_every_route` checks the document against the app)."""
import json, pathlib

P = "#/components/schemas/"
def ref(n): return {"$ref": P + n}
def page(n): return {"type": "object", "properties": {"items": {"type": "array", "items": ref(n)}, "next_cursor": {"type": ["string", "null"]}}}
DL = ["pipeline_id", "stage_id", "status", "owner_id", "contact_id", "company_id", "tag", "min_value", "max_value", "close_from", "close_to", "stale", "q"]
LIST = [{"name": n, "in": "query", "schema": {"type": "string"}} for n in ["limit", "cursor", "q", "filter", "sort", "view"]]

# (method, path, area, summary, request schema, response schema, extra query params)
R = [
 ("post", "/api/v1/auth/sign-in", "auth", "Sign in with email and password; sets the session cookie", "SignIn", "Session", []),
 ("post", "/api/v1/auth/sign-out", "auth", "End this session", None, None, []),
 ("post", "/api/v1/auth/sign-out-everywhere", "auth", "End every session of the user", None, None, []),
 ("get", "/api/v1/auth/me", "auth", "The signed-in user and CSRF token", None, "Session", []),
 ("post", "/api/v1/auth/accept-invite", "auth", "Accept an invitation, setting name and password", "AcceptInvite", "Session", []),
 ("post", "/api/v1/auth/request-password-reset", "auth", "Email a password reset link", "Email", None, []),
 ("post", "/api/v1/auth/reset-password", "auth", "Set a new password with a reset token", "ResetPassword", None, []),
 ("get", "/api/v1/users", "users", "Users of the workspace (owners, admins)", None, page("User"), []),
 ("get", "/api/v1/users/directory", "users", "Names of the workspace's people (any signed-in user)", None, page("UserName"), []),
 ("post", "/api/v1/users/invitations", "users", "Invite a user by email with a role", "Invite", "User", []),
 ("patch", "/api/v1/users/{id}", "users", "Change a user's role", "RoleChange", "User", []),
 ("post", "/api/v1/users/{id}/deactivate", "users", "Deactivate a user (ends their sessions)", None, "User", []),
 ("put", "/api/v1/users/{id}/team", "users", "Put a user in a team, or in none", "TeamMembership", "User", []),
 ("get", "/api/v1/teams", "teams", "Teams with their members", None, page("Team"), []),
 ("post", "/api/v1/teams", "teams", "Create a team", "Name", "Team", []),
 ("patch", "/api/v1/teams/{id}", "teams", "Rename a team", "Name", "Team", []),
 ("delete", "/api/v1/teams/{id}", "teams", "Delete a team (members are left in none)", None, None, []),
 ("get", "/api/v1/outbox", "outbox", "Emails the workspace sent or captured", None, page("Object"), []),
 ("get", "/api/v1/api-keys", "api-keys", "API keys", None, page("Object"), []),
 ("post", "/api/v1/api-keys", "api-keys", "Create a scoped API key (the token is shown once)", "NewApiKey", "Object", []),
 ("delete", "/api/v1/api-keys/{id}", "api-keys", "Revoke an API key", None, None, []),
 ("get", "/api/v1/audit", "audit", "Change events of every component, newest first", None, page("Event"), ["actor", "entity", "entity_id", "since", "until", "cursor", "limit"]),
 ("get", "/api/v1/settings/record-visibility", "settings", "Which records sales users see", None, "RecordVisibility", []),
 ("put", "/api/v1/settings/record-visibility", "settings", "Set which records sales users see", "RecordVisibility", "RecordVisibility", []),
 ("get", "/api/v1/contacts", "contacts", "List contacts (filters, sort, search, trash)", None, page("Contact"), LIST),
 ("post", "/api/v1/contacts", "contacts", "Create a contact (Idempotency-Key honoured)", "ContactInput", "Contact", []),
 ("get", "/api/v1/contacts/count", "contacts", "Count a view (capped at 10,000)", None, "Count", LIST),
 ("get", "/api/v1/contacts/export", "contacts", "One page of a view as CSV or JSON (next page in x-next-cursor)", None, None, LIST + ["format"]),
 ("get", "/api/v1/contacts/duplicates", "contacts", "Groups of likely duplicates", None, page("Object"), ["reason", "after", "limit"]),
 ("post", "/api/v1/contacts/merge", "contacts", "Merge contacts into one", "Merge", "Object", []),
 ("get", "/api/v1/contacts/merges", "contacts", "Merge history", None, page("Object"), ["primary_id", "limit"]),
 ("post", "/api/v1/contacts/merges/{id}/undo", "contacts", "Undo a merge", None, "Contact", []),
 ("get", "/api/v1/contacts/{id}", "contacts", "A contact (ETag = version)", None, "Contact", ["view"]),
 ("patch", "/api/v1/contacts/{id}", "contacts", "Update with a JSON merge patch (If-Match → 412 on a lost update)", "ContactInput", "Contact", []),
 ("delete", "/api/v1/contacts/{id}", "contacts", "Move to the trash (?purge=true erases)", None, None, ["purge"]),
 ("post", "/api/v1/contacts/{id}/restore", "contacts", "Restore from the trash", None, "Contact", []),
 ("get", "/api/v1/contacts/{id}/timeline", "contacts", "Activities and changes, newest first", None, page("Object"), ["limit", "cursor"]),
 ("get", "/api/v1/contacts/{id}/summary", "contacts", "The 360 header: next task, last contact, companies, duplicates", None, "Object", []),
 ("get", "/api/v1/contacts/{id}/duplicates", "contacts", "Likely duplicates of a contact", None, page("Object"), []),
 ("get", "/api/v1/companies", "contacts", "List companies", None, page("Company"), LIST),
 ("post", "/api/v1/companies", "contacts", "Create a company", "CompanyInput", "Company", []),
 ("get", "/api/v1/companies/count", "contacts", "Count a view", None, "Count", LIST),
 ("get", "/api/v1/companies/export", "contacts", "One page of a view as CSV or JSON", None, None, LIST + ["format"]),
 ("get", "/api/v1/companies/{id}", "contacts", "A company", None, "Company", ["view"]),
 ("patch", "/api/v1/companies/{id}", "contacts", "Update with a JSON merge patch", "CompanyInput", "Company", []),
 ("delete", "/api/v1/companies/{id}", "contacts", "Move to the trash (?purge=true erases)", None, None, ["purge"]),
 ("post", "/api/v1/companies/{id}/restore", "contacts", "Restore from the trash", None, "Company", []),
 ("get", "/api/v1/companies/{id}/contacts", "contacts", "The company's contacts", None, page("Contact"), ["limit"]),
 ("get", "/api/v1/companies/{id}/timeline", "contacts", "Activities and changes", None, page("Object"), ["limit", "cursor"]),
 ("get", "/api/v1/activities", "contacts", "Activities of a record, or open tasks", None, page("Activity"), ["contact_id", "company_id", "deal_id", "kind", "open_tasks_of", "limit", "cursor"]),
 ("post", "/api/v1/activities", "contacts", "Log a note, call, meeting, email or task", "ActivityInput", "Activity", []),
 ("get", "/api/v1/activities/{id}", "contacts", "An activity", None, "Activity", []),
 ("patch", "/api/v1/activities/{id}", "contacts", "Update an activity (done: true completes a task)", "ActivityInput", "Activity", []),
 ("delete", "/api/v1/activities/{id}", "contacts", "Delete an activity", None, None, []),
 ("get", "/api/v1/custom-fields", "contacts", "Custom field definitions", None, page("CustomField"), ["entity"]),
 ("post", "/api/v1/custom-fields", "contacts", "Define a custom field (owners, admins, managers)", "CustomField", "CustomField", []),
 ("get", "/api/v1/custom-fields/{id}", "contacts", "A custom field", None, "CustomField", []),
 ("patch", "/api/v1/custom-fields/{id}", "contacts", "Change label, options, required, position", "CustomField", "CustomField", []),
 ("delete", "/api/v1/custom-fields/{id}", "contacts", "Archive a custom field (values are kept)", None, None, []),
 ("get", "/api/v1/search", "contacts", "Global search: contacts, companies, notes", None, "Object", ["q", "limit"]),
 ("get", "/api/v1/tags", "contacts", "Tags in use with counts", None, page("Object"), ["entity"]),
 ("get", "/api/v1/imports", "contacts", "Recent import jobs", None, page("Import"), []),
 ("post", "/api/v1/imports", "contacts", "Start an import job", "NewImport", "Import", []),
 ("get", "/api/v1/imports/{id}", "contacts", "An import job and its progress", None, "Import", []),
 ("delete", "/api/v1/imports/{id}", "contacts", "Forget a finished import job", None, None, []),
 ("put", "/api/v1/imports/{id}/chunks/{n}", "contacts", "Upload one chunk of the file (raw bytes)", "Bytes", None, []),
 ("post", "/api/v1/imports/{id}/complete", "contacts", "Finish the upload: detection, headers, sample, suggested mapping", None, "Object", []),
 ("put", "/api/v1/imports/{id}/mapping", "contacts", "Set the column mapping; answers a preview", "Mapping", "Object", []),
 ("post", "/api/v1/imports/{id}/run", "contacts", "Import for about a second; answers progress", None, "Import", []),
 ("post", "/api/v1/imports/{id}/cancel", "contacts", "Stop an import", None, "Import", []),
 ("get", "/api/v1/imports/{id}/errors", "contacts", "The per-row report", None, page("Object"), ["after", "limit"]),
 ("get", "/api/v1/views", "contacts", "Saved views (own and shared)", None, page("View"), ["entity"]),
 ("post", "/api/v1/views", "contacts", "Save a view", "View", "View", []),
 ("get", "/api/v1/views/{id}", "contacts", "A saved view", None, "View", []),
 ("patch", "/api/v1/views/{id}", "contacts", "Rename, change or share a view", "View", "View", []),
 ("delete", "/api/v1/views/{id}", "contacts", "Delete a view", None, None, []),
 ("get", "/api/v1/pipelines", "pipeline", "Pipelines with their stages in order", None, page("Pipeline"), []),
 ("post", "/api/v1/pipelines", "pipeline", "Create a pipeline with its stages", "PipelineInput", "Pipeline", []),
 ("get", "/api/v1/pipelines/{id}", "pipeline", "A pipeline (ETag = version)", None, "Pipeline", []),
 ("patch", "/api/v1/pipelines/{id}", "pipeline", "Rename or reposition a pipeline", "PipelineInput", "Pipeline", []),
 ("delete", "/api/v1/pipelines/{id}", "pipeline", "Delete a pipeline without open deals (409 pipeline-not-empty)", None, None, []),
 ("get", "/api/v1/pipelines/{id}/board", "pipeline", "The board: open deals per stage in card order, with totals", None, "Board", DL + ["per_stage"]),
 ("post", "/api/v1/pipelines/{id}/stages", "pipeline", "Create a stage at the end", "StageInput", "Pipeline", []),
 ("patch", "/api/v1/pipelines/{id}/stages/{stage_id}", "pipeline", "Rename a stage, set its probability or stale limit", "StageInput", "Pipeline", []),
 ("delete", "/api/v1/pipelines/{id}/stages/{stage_id}", "pipeline", "Remove a stage without open deals (409 stage-not-empty)", None, "Pipeline", []),
 ("put", "/api/v1/pipelines/{id}/stage-order", "pipeline", "Put the stages in this order", "StageOrder", "Pipeline", []),
 ("get", "/api/v1/deals", "pipeline", "List deals (filters, sort, cursor)", None, page("Deal"), DL + ["sort", "limit", "cursor"]),
 ("post", "/api/v1/deals", "pipeline", "Create a deal (Idempotency-Key honoured)", "DealInput", "Deal", []),
 ("post", "/api/v1/deals/bulk", "pipeline", "Create up to 1,000 deals at once, all or none, keeping created_at/closed_at", "DealBulk", "Object", []),
 ("get", "/api/v1/deals/export", "pipeline", "Every deal of a view as CSV or JSON", None, None, DL + ["sort", "format"]),
 ("get", "/api/v1/deals/{id}", "pipeline", "A deal (ETag = version)", None, "Deal", []),
 ("patch", "/api/v1/deals/{id}", "pipeline", "Update with a JSON merge patch; status won/lost/open closes or reopens", "DealInput", "Deal", []),
 ("delete", "/api/v1/deals/{id}", "pipeline", "Delete a deal (restorable)", None, None, []),
 ("post", "/api/v1/deals/{id}/restore", "pipeline", "Restore a deleted deal", None, "Deal", []),
 ("post", "/api/v1/deals/{id}/move", "pipeline", "Move a card (If-Match; 412 carries the deal's current state)", "Move", "Deal", []),
 ("get", "/api/v1/deals/{id}/history", "pipeline", "Stage and status changes with time in stage", None, page("Object"), []),
 ("get", "/api/v1/pipeline-settings", "pipeline", "Base currency, lost and won reasons", None, "PipelineSettings", []),
 ("put", "/api/v1/pipeline-settings", "pipeline", "Change the pipeline settings", "PipelineSettings", "PipelineSettings", []),
 ("get", "/api/v1/exchange-rates", "pipeline", "Dated exchange rates to the base currency", None, page("ExchangeRate"), []),
 ("post", "/api/v1/exchange-rates", "pipeline", "Create or replace a dated rate (deals convert again)", "ExchangeRate", "ExchangeRate", []),
 ("delete", "/api/v1/exchange-rates/{currency}/{valid_from}", "pipeline", "Delete a dated rate", None, None, []),
 ("get", "/api/v1/quotas", "pipeline", "Quotas per owner and period", None, page("Quota"), ["period"]),
 ("put", "/api/v1/quotas", "pipeline", "Set quotas (amount 0 removes one)", "Quotas", page("Quota"), []),
 ("get", "/api/v1/sales-reports/forecast", "pipeline", "Weighted forecast by month and owner, won value and quota", None, "Object", ["pipeline_id", "owner_id", "from", "to"]),
 ("get", "/api/v1/sales-reports/summary", "pipeline", "Win rate, average deal, sales cycle, won and lost reasons", None, "Object", ["pipeline_id", "owner_id", "from", "to"]),
 ("get", "/api/v1/sales-reports/funnel", "pipeline", "Stage-to-stage conversion and days in stage", None, "Object", ["pipeline_id", "owner_id", "from", "to"]),
 ("get", "/api/v1/sales-reports/attainment", "pipeline", "Quota attainment per owner for a month or quarter", None, "Object", ["period", "pipeline_id"]),
]

obj = {"type": "object"}
schemas = {
 "Problem": {"type": "object", "description": "RFC 9457 problem details", "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"}, "request_id": {"type": "string"}, "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}},
 "Object": obj, "Bytes": {"type": "string", "format": "binary"},
 "SignIn": {"type": "object", "required": ["email", "password"], "properties": {"email": {"type": "string"}, "password": {"type": "string"}}},
 "Email": {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}},
 "AcceptInvite": {"type": "object", "required": ["token", "password"], "properties": {"token": {"type": "string"}, "name": {"type": "string"}, "password": {"type": "string"}}},
 "ResetPassword": {"type": "object", "required": ["token", "password"], "properties": {"token": {"type": "string"}, "password": {"type": "string"}}},
 "Session": {"type": "object", "properties": {"user": ref("User"), "csrf_token": {"type": "string"}}},
 "User": {"type": "object", "properties": {k: {"type": "string"} for k in ["id", "email", "name", "role", "state", "team_id", "created_at", "last_sign_in_at"]}},
 "UserName": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "email": {"type": "string"}, "active": {"type": "boolean"}}},
 "Invite": {"type": "object", "required": ["email", "role"], "properties": {"email": {"type": "string"}, "name": {"type": "string"}, "role": {"enum": ["owner", "admin", "manager", "sales", "marketing", "support", "read-only"]}}},
 "RoleChange": {"type": "object", "required": ["role"], "properties": {"role": {"type": "string"}}},
 "TeamMembership": {"type": "object", "properties": {"team_id": {"type": ["string", "null"]}}},
 "Name": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
 "Team": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "members": {"type": "array", "items": {"type": "string"}}}},
 "NewApiKey": {"type": "object", "required": ["name", "scopes"], "properties": {"name": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}}},
 "Event": {"type": "object", "properties": {k: {"type": "string"} for k in ["at", "actor", "component", "entity", "entity_id", "action"]}},
 "RecordVisibility": {"type": "object", "properties": {"sales": {"enum": ["all", "own", "team"]}}},
 "Count": {"type": "object", "properties": {"count": {"type": "integer"}, "more": {"type": "boolean"}}},
 "ContactInput": {"type": "object", "description": "See README: Contacts, companies, activities", "properties": {k: {} for k in ["first_name", "last_name", "email", "emails", "phone", "phones", "title", "company_id", "company", "company_ids", "address", "lifecycle_stage", "source", "owner_id", "tags", "custom", "consent", "external_id"]}},
 "Contact": {"allOf": [ref("ContactInput"), {"type": "object", "properties": {k: {"type": ["string", "null"]} for k in ["id", "created_at", "updated_at", "last_activity_at", "deleted_at"]} | {"version": {"type": "integer"}}}]},
 "CompanyInput": {"type": "object", "properties": {k: {} for k in ["name", "domain", "domains", "industry", "size", "address", "phone", "website", "owner_id", "tags", "custom", "parent_id", "external_id"]}},
 "Company": {"allOf": [ref("CompanyInput"), {"type": "object", "properties": {"id": {"type": "string"}, "version": {"type": "integer"}}}]},
 "ActivityInput": {"type": "object", "properties": {k: {} for k in ["kind", "subject", "body", "contact_id", "company_id", "deal_id", "occurred_at", "due_at", "assignee_id", "reminder_at", "done"]}},
 "Activity": {"allOf": [ref("ActivityInput"), {"type": "object", "properties": {"id": {"type": "string"}, "done_at": {"type": ["string", "null"]}, "version": {"type": "integer"}}}]},
 "CustomField": {"type": "object", "properties": {k: {} for k in ["id", "entity", "key", "label", "kind", "options", "currency", "required", "position"]}},
 "Merge": {"type": "object", "required": ["primary_id", "merged_ids"], "properties": {"primary_id": {"type": "string"}, "merged_ids": {"type": "array", "items": {"type": "string"}}, "fields": {"type": "object", "additionalProperties": {"type": "string"}}}},
 "NewImport": {"type": "object", "required": ["filename", "size"], "properties": {"entity": {"enum": ["contact", "company"]}, "filename": {"type": "string"}, "size": {"type": "integer"}}},
 "Import": {"type": "object", "properties": {k: {} for k in ["id", "entity", "filename", "status", "total_bytes", "position", "progress", "rows_done", "created", "updated", "unchanged", "failed", "chunk_size", "chunks"]}},
 "Mapping": {"type": "object", "required": ["columns", "match_by"], "properties": {"columns": {"type": "array", "items": {"type": ["string", "null"]}}, "match_by": {"enum": ["email", "external_id", "none"]}, "update_existing": {"type": "boolean"}, "create_companies": {"type": "boolean"}, "encoding": {"enum": ["utf8", "latin1"]}}},
 "View": {"type": "object", "properties": {k: {} for k in ["id", "entity", "name", "query", "columns", "shared"]}},
 "StageInput": {"type": "object", "properties": {"name": {"type": "string"}, "probability": {"type": "integer", "minimum": 0, "maximum": 100}, "stale_days": {"type": ["integer", "null"]}}},
 "Stage": {"allOf": [ref("StageInput"), {"type": "object", "properties": {"id": {"type": "string"}, "position": {"type": "integer"}}}]},
 "PipelineInput": {"type": "object", "properties": {"name": {"type": "string"}, "position": {"type": "integer"}, "stages": {"type": "array", "items": ref("StageInput")}}},
 "Pipeline": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "position": {"type": "integer"}, "stages": {"type": "array", "items": ref("Stage")}, "version": {"type": "integer"}}},
 "StageOrder": {"type": "object", "required": ["stage_ids"], "properties": {"stage_ids": {"type": "array", "items": {"type": "string"}}}},
 "DealInput": {"type": "object", "description": "See README: Pipeline", "properties": {k: {} for k in ["title", "value", "currency", "expected_close", "owner_id", "contact_id", "company_id", "contact_ids", "pipeline_id", "stage_id", "probability", "source", "priority", "line_items", "status", "lost_reason", "won_reason", "next_step", "tags"]}},
 "Deal": {"allOf": [ref("DealInput"), {"type": "object", "properties": {k: {} for k in ["id", "base_value", "probability_override", "position", "stage_entered_at", "touched_at", "stale", "closed_at", "created_at", "updated_at", "version"]}}]},
 "DealBulk": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "maxItems": 1000, "items": {"allOf": [ref("DealInput"), {"type": "object", "properties": {"created_at": {"type": "string", "format": "date-time"}, "closed_at": {"type": "string", "format": "date-time"}}}]}}}},
 "Move": {"type": "object", "required": ["stage_id"], "properties": {"stage_id": {"type": "string"}, "before_id": {"type": "string"}, "after_id": {"type": "string"}}},
 "Board": {"type": "object", "properties": {"pipeline": ref("Pipeline"), "base_currency": {"type": "string"}, "stages": {"type": "array", "items": {"type": "object"}}}},
 "PipelineSettings": {"type": "object", "properties": {"base_currency": {"type": "string"}, "lost_reasons": {"type": "array", "items": {"type": "string"}}, "won_reasons": {"type": "array", "items": {"type": "string"}}}},
 "ExchangeRate": {"type": "object", "required": ["currency", "valid_from", "rate"], "properties": {"currency": {"type": "string"}, "valid_from": {"type": "string", "format": "date"}, "rate": {"type": "string"}}},
 "Quota": {"type": "object", "properties": {"owner_id": {"type": "string"}, "period": {"type": "string"}, "amount": {"type": "integer"}}},
 "Quotas": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": ref("Quota")}}},
}

paths = {}
for (m, path, area, summary, req, resp, q) in R:
    op = {"summary": summary, "tags": [area], "responses": {}}
    params = [{"name": p.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}} for p in path.split("/") if p.startswith("{")]
    params += [p if isinstance(p, dict) else {"name": p, "in": "query", "schema": {"type": "string"}} for p in q]
    if params: op["parameters"] = params
    if req:
        ct = "application/octet-stream" if req == "Bytes" else "application/json"
        op["requestBody"] = {"required": True, "content": {ct: {"schema": ref(req)}}}
    ok = "201" if m == "post" and summary.startswith(("Create", "Start", "Invite", "Log", "Define", "Save")) else ("204" if resp is None and m in ("delete", "put", "post") else "200")
    if resp is None:
        op["responses"][ok] = {"description": "Done" if ok == "204" else "OK"}
    else:
        op["responses"][ok] = {"description": "OK", "content": {"application/json": {"schema": resp if isinstance(resp, dict) else ref(resp)}}}
    op["responses"]["default"] = {"description": "A problem", "content": {"application/problem+json": {"schema": ref("Problem")}}}
    paths.setdefault(path, {})[m] = op

doc = {
 "openapi": "3.1.0",
 "info": {"title": "Edge CRM API", "version": "1", "description": "JSON under /api/v1 on each tenant's host. Sign in for a session cookie (send x-csrf-token on writes) or use Authorization: Bearer ek_… API keys. Errors are application/problem+json."},
 "servers": [{"url": "http://demo.localhost:3000"}],
 "components": {"schemas": schemas, "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "edge_session"}, "apiKey": {"type": "http", "scheme": "bearer"}}},
 "security": [{"session": []}, {"apiKey": []}],
 "paths": paths,
}
out = pathlib.Path(__file__).resolve().parents[2] / "static" / "openapi.json"
out.write_text(json.dumps(doc, indent=1) + "\n")
print(f"wrote {out} ({len(R)} operations)")
