//! Orders: created by staff, upserted by a shop or ERP by their external id
//! (sending the same order twice changes nothing), moved along their
//! lifecycle with a dated status history, listed per customer.

use super::{event, timeline, Conflict, Invalid, NotFound, Writer};
use crate::model::{may_move, Order, OrderData, StatusEntry};
use anyhow::Result;
use edge_db::record::json_text;
use edge_db::{Db, Row, Val};

pub const ID_PREFIX: &str = "o";

const COLUMNS: &str = "id, number, external_id, contact_id, currency, items, shipping, tax, discount, total, status, carrier,
    tracking_number, note, placed_at, created_at, updated_at, version";

fn from_row(r: Row) -> Order {
    Order {
        id: r.text(0), number: r.text(1), external_id: r.string(2), contact_id: r.text(3), currency: r.text(4), items: r.json(5),
        shipping: r.i64(6).unwrap_or(0), tax: r.i64(7).unwrap_or(0), discount: r.i64(8).unwrap_or(0), total: r.i64(9).unwrap_or(0),
        status: r.text(10), carrier: r.string(11), tracking_number: r.string(12), note: r.string(13), placed_at: r.text(14),
        created_at: r.text(15), updated_at: r.text(16), version: r.i64(17).unwrap_or(1),
    }
}

/// An order; `contact` limits it to that customer's (the portal's view).
pub fn get<D: Db + ?Sized>(db: &D, id: &str, contact: Option<&str>) -> Result<Option<Order>> {
    let r = db.run(&format!("SELECT {COLUMNS} FROM orders WHERE id = ? AND (?2 IS NULL OR contact_id = ?2)"), &[id.into(), contact.into()])?;
    Ok(r.first().map(from_row))
}

pub fn by_external_id<D: Db + ?Sized>(db: &D, external_id: &str) -> Result<Option<Order>> {
    let r = db.run(&format!("SELECT {COLUMNS} FROM orders WHERE external_id = ?"), &[external_id.into()])?;
    Ok(r.first().map(from_row))
}

pub fn history<D: Db + ?Sized>(db: &D, id: &str) -> Result<Vec<StatusEntry>> {
    let r = db.run("SELECT status, at, note FROM order_status_history WHERE order_id = ? ORDER BY seq", &[id.into()])?;
    Ok(r.iter().map(|row| StatusEntry { status: row.text(0), at: row.text(1), note: row.string(2) }).collect())
}

fn milestone<D: Db + ?Sized>(db: &D, o: &Order, status: &str, at: &str) -> Result<()> {
    let title = match status {
        "placed" => {
            let n = o.items.iter().map(|i| i.quantity).sum::<i64>();
            format!("Order {} placed ({n} item{})", o.number, if n == 1 { "" } else { "s" })
        }
        "paid" => format!("Order {} paid", o.number),
        "shipped" => format!("Order {} shipped{}", o.number, o.carrier.as_deref().map(|c| format!(" with {c}")).unwrap_or_default()),
        "delivered" => format!("Order {} delivered", o.number),
        "cancelled" => format!("Order {} cancelled", o.number),
        _ => format!("Order {} returned", o.number),
    };
    let detail = serde_json::json!({"order_id": o.id, "number": o.number, "total": o.total, "currency": o.currency, "status": status});
    timeline(db, at, &o.contact_id, &format!("order-{status}"), &title, &detail, &o.id)
}

fn record_status<D: Db + ?Sized>(db: &D, w: &Writer, o: &Order, status: &str, at: &str, note: Option<&str>) -> Result<()> {
    db.run("INSERT INTO order_status_history (order_id, status, at, note, actor) VALUES (?, ?, ?, ?, ?)", &[o.id.as_str().into(), status.into(), at.into(), note.into(), w.actor.into()])?;
    milestone(db, o, status, at)
}

fn next_number<D: Db + ?Sized>(db: &D) -> Result<String> {
    let n = db.run("SELECT count(*) FROM orders", &[])?.scalar_i64().unwrap_or(0);
    let mut k = 1001 + n;
    loop {
        let candidate = k.to_string();
        if db.run("SELECT 1 FROM orders WHERE number = ?", &[candidate.as_str().into()])?.is_empty() {
            return Ok(candidate);
        }
        k += 1;
    }
}

/// Creates an order; the caller holds the transaction.
pub fn insert<D: Db + ?Sized>(db: &D, w: &Writer, d: OrderData) -> Result<Order> {
    let number = match d.number.clone() {
        Some(n) => {
            if !db.run("SELECT 1 FROM orders WHERE number = ?", &[n.as_str().into()])?.is_empty() {
                return Err(Invalid::one("number", "is already used by another order").into());
            }
            n
        }
        None => next_number(db)?,
    };
    if let Some(x) = &d.external_id {
        if by_external_id(db, x)?.is_some() {
            return Err(Invalid::one("external_id", "is already used by another order").into());
        }
    }
    let id = w.new_id(db, "orders", ID_PREFIX)?;
    let now = edge_db::now();
    let placed_at = d.placed_at.clone().unwrap_or_else(|| now.clone());
    db.run(
        &format!("INSERT INTO orders ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"),
        &[
            id.as_str().into(), number.into(), (&d.external_id).into(), d.contact_id.as_str().into(), d.currency.as_str().into(), json_text(&d.items),
            Val::Int(d.shipping), Val::Int(d.tax), Val::Int(d.discount), Val::Int(d.total), d.status.as_str().into(), (&d.carrier).into(),
            (&d.tracking_number).into(), (&d.note).into(), placed_at.as_str().into(), now.as_str().into(), now.as_str().into(),
        ],
    )?;
    let o = get(db, &id, None)?.ok_or(NotFound)?;
    record_status(db, w, &o, "placed", &placed_at, None)?;
    if o.status != "placed" {
        record_status(db, w, &o, &o.status, &now, None)?;
    }
    event(db, w, "order", &id, "created", None, Some(&serde_json::to_value(&o)?))?;
    Ok(o)
}

fn check_move(from: &str, to: &str) -> Result<()> {
    if from != to && !may_move(from, to) {
        return Err(Conflict { kind: "invalid-transition", message: format!("An order that is {from} cannot become {to}.") }.into());
    }
    Ok(())
}

/// Replaces an order's content (a shop's upsert, or staff's edit); a status
/// change follows the lifecycle and is recorded. Unchanged content changes
/// nothing (no new version, no event). The caller holds the transaction.
pub fn replace<D: Db + ?Sized>(db: &D, w: &Writer, before: &Order, d: OrderData, if_version: Option<i64>) -> Result<(Order, bool)> {
    edge_db::record::check_version(if_version, before.version)?;
    check_move(&before.status, &d.status)?;
    let number = d.number.clone().unwrap_or_else(|| before.number.clone());
    if number != before.number && !db.run("SELECT 1 FROM orders WHERE number = ?", &[number.as_str().into()])?.is_empty() {
        return Err(Invalid::one("number", "is already used by another order").into());
    }
    let placed_at = d.placed_at.clone().unwrap_or_else(|| before.placed_at.clone());
    let same = number == before.number && d.contact_id == before.contact_id && d.currency == before.currency && d.items == before.items
        && d.shipping == before.shipping && d.tax == before.tax && d.discount == before.discount && d.status == before.status
        && d.carrier == before.carrier && d.tracking_number == before.tracking_number && d.note == before.note && placed_at == before.placed_at;
    if same {
        return Ok((before.clone(), false));
    }
    let now = edge_db::now();
    db.run(
        "UPDATE orders SET number = ?, contact_id = ?, currency = ?, items = ?, shipping = ?, tax = ?, discount = ?, total = ?, status = ?,
            carrier = ?, tracking_number = ?, note = ?, placed_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        &[
            number.into(), d.contact_id.as_str().into(), d.currency.as_str().into(), json_text(&d.items), Val::Int(d.shipping), Val::Int(d.tax),
            Val::Int(d.discount), Val::Int(d.total), d.status.as_str().into(), (&d.carrier).into(), (&d.tracking_number).into(), (&d.note).into(),
            placed_at.into(), now.as_str().into(), before.id.as_str().into(),
        ],
    )?;
    let after = get(db, &before.id, None)?.ok_or(NotFound)?;
    if after.status != before.status {
        record_status(db, w, &after, &after.status, &now, None)?;
    }
    event(db, w, "order", &before.id, "updated", Some(&serde_json::to_value(before)?), Some(&serde_json::to_value(&after)?))?;
    Ok((after, true))
}

/// The shop's upsert: creates the order with this external id, or brings it
/// up to date; returns the order and whether it was created.
pub fn upsert<D: Db + ?Sized>(db: &D, w: &Writer, external_id: &str, mut d: OrderData) -> Result<(Order, bool, bool)> {
    d.external_id = Some(external_id.to_string());
    match by_external_id(db, external_id)? {
        None => Ok((insert(db, w, d)?, true, true)),
        Some(before) => {
            let (o, changed) = replace(db, w, &before, d, None)?;
            Ok((o, false, changed))
        }
    }
}

/// Moves an order along its lifecycle (carrier and tracking number with shipping).
pub fn set_status<D: Db + ?Sized>(db: &D, w: &Writer, id: &str, status: &str, note: Option<&str>, carrier: Option<&str>, tracking: Option<&str>, if_version: Option<i64>) -> Result<Order> {
    let before = get(db, id, None)?.ok_or(NotFound)?;
    edge_db::record::check_version(if_version, before.version)?;
    if !crate::model::STATUSES.contains(&status) {
        return Err(Invalid::one("status", "must be placed, paid, shipped, delivered, cancelled or returned").into());
    }
    if status == before.status || !may_move(&before.status, status) {
        return Err(Conflict { kind: "invalid-transition", message: format!("An order that is {} cannot become {status}.", before.status) }.into());
    }
    let now = edge_db::now();
    db.run(
        "UPDATE orders SET status = ?, carrier = COALESCE(?, carrier), tracking_number = COALESCE(?, tracking_number), updated_at = ?, version = version + 1 WHERE id = ?",
        &[status.into(), carrier.into(), tracking.into(), now.as_str().into(), id.into()],
    )?;
    let after = get(db, id, None)?.ok_or(NotFound)?;
    record_status(db, w, &after, status, &now, note)?;
    event(db, w, "order", id, "status", Some(&serde_json::json!({"status": before.status})), Some(&serde_json::json!({"status": status, "note": note})))?;
    Ok(after)
}

/// Orders newest first (by id), of one customer or all; `after` is the last id seen.
pub fn list<D: Db + ?Sized>(db: &D, contact: Option<&str>, status: Option<&str>, number: Option<&str>, after: Option<&str>, limit: i64) -> Result<(Vec<Order>, Option<String>)> {
    let r = db.run(
        &format!(
            "SELECT {COLUMNS} FROM orders WHERE (?1 IS NULL OR contact_id = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR number = ?3)
             AND (?4 IS NULL OR id < ?4) ORDER BY id DESC LIMIT ?5"
        ),
        &[contact.into(), status.into(), number.into(), after.into(), Val::Int(limit + 1)],
    )?;
    let mut items: Vec<Order> = r.iter().map(from_row).collect();
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|o| o.id.clone())
    } else {
        None
    };
    Ok((items, next))
}

/// A customer's value from their orders (cancelled and returned ones left
/// out), per currency: the lifetime value the contact page and segments use.
pub fn customer_value<D: Db + ?Sized>(db: &D, contact: &str) -> Result<serde_json::Value> {
    let r = db.run(
        "SELECT currency, count(*), sum(total), min(placed_at), max(placed_at) FROM orders
         WHERE contact_id = ? AND status NOT IN ('cancelled', 'returned') GROUP BY currency ORDER BY sum(total) DESC",
        &[contact.into()],
    )?;
    let totals: Vec<serde_json::Value> = r.iter().map(|row| serde_json::json!({"currency": row.text(0), "orders": row.i64(1), "lifetime_value": row.i64(2)})).collect();
    let orders: i64 = r.iter().filter_map(|row| row.i64(1)).sum();
    let first = r.iter().filter_map(|row| row.string(3)).min();
    let last = r.iter().filter_map(|row| row.string(4)).max();
    Ok(serde_json::json!({"contact_id": contact, "orders": orders, "first_order_at": first, "last_order_at": last, "totals": totals}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OrderInput;
    use crate::store::testing::{db, writer};
    use serde_json::json;

    const C: &str = "c_01HZZZZZZZZZZZZZZZZZZZZZZZ";

    fn data(v: serde_json::Value) -> OrderData {
        serde_json::from_value::<OrderInput>(v).unwrap().validate().unwrap()
    }

    #[test]
    fn upsert_by_external_id_is_idempotent() {
        let db = db();
        let w = writer("apikey:k_1");
        let body = json!({"contact_id": C, "currency": "EUR", "items": [{"product": "Tent", "quantity": 1, "unit_price": 24900}], "placed_at": "2026-11-01T10:00:00Z"});
        let (o, created, changed) = edge_db::tx(&db, || upsert(&db, &w, "shop-1", data(body.clone()))).unwrap();
        assert!(created && changed && o.number == "1001");
        let (again, created, changed) = edge_db::tx(&db, || upsert(&db, &w, "shop-1", data(body.clone()))).unwrap();
        assert!(!created && !changed && again.version == 1, "the same order again changes nothing");
        let events = db.run("SELECT count(*) FROM portal_events", &[]).unwrap().scalar_i64();
        assert_eq!(events, Some(1));
        let mut shipped = body.clone();
        shipped["status"] = "shipped".into();
        shipped["carrier"] = "DHL".into();
        let (s, _, changed) = edge_db::tx(&db, || upsert(&db, &w, "shop-1", data(shipped.clone()))).unwrap();
        assert!(changed && s.status == "shipped");
        assert_eq!(history(&db, &s.id).unwrap().iter().map(|h| h.status.as_str()).collect::<Vec<_>>(), vec!["placed", "shipped"]);
        let mut back = body.clone();
        back["status"] = "paid".into();
        let err = edge_db::tx(&db, || upsert(&db, &w, "shop-1", data(back.clone()))).unwrap_err();
        assert_eq!(err.downcast_ref::<Conflict>().map(|c| c.kind), Some("invalid-transition"));
        let kinds: Vec<String> = db.run("SELECT kind FROM portal_timeline ORDER BY seq", &[]).unwrap().iter().map(|r| r.text(0)).collect();
        assert_eq!(kinds, vec!["order-placed", "order-shipped"]);
    }

    #[test]
    fn status_moves_lists_and_value() {
        let db = db();
        let w = writer("user:u_01HZZZZZZZZZZZZZZZZZZZZZZZ");
        let a = edge_db::tx(&db, || insert(&db, &w, data(json!({"contact_id": C, "currency": "EUR", "items": [{"product": "A", "quantity": 2, "unit_price": 1000}]})))).unwrap();
        let b = edge_db::tx(&db, || insert(&db, &w, data(json!({"contact_id": C, "currency": "EUR", "items": [{"product": "B", "quantity": 1, "unit_price": 500}]})))).unwrap();
        edge_db::tx(&db, || insert(&db, &w, data(json!({"contact_id": "c_01HYYYYYYYYYYYYYYYYYYYYYYY", "currency": "EUR", "items": [{"product": "X", "quantity": 1, "unit_price": 1}]})))).unwrap();
        let err = set_status(&db, &w, &a.id, "returned", None, None, None, None).unwrap_err();
        assert!(err.downcast_ref::<Conflict>().is_some(), "placed orders are cancelled, not returned");
        set_status(&db, &w, &b.id, "cancelled", Some("customer asked"), None, None, Some(1)).unwrap();
        let v = customer_value(&db, C).unwrap();
        assert_eq!((v["orders"].as_i64(), v["totals"][0]["lifetime_value"].as_i64()), (Some(1), Some(2000)), "cancelled orders are not value");
        let (mine, next) = list(&db, Some(C), None, None, None, 1).unwrap();
        assert_eq!((mine.len(), mine[0].id.as_str()), (1, b.id.as_str()));
        let (rest, _) = list(&db, Some(C), None, None, next.as_deref(), 10).unwrap();
        assert_eq!(rest.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), vec![a.id.as_str()]);
        assert!(get(&db, &a.id, Some("c_01HYYYYYYYYYYYYYYYYYYYYYYY")).unwrap().is_none(), "another customer cannot see it");
    }
}
