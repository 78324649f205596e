//! Teams: named groups of users (a user is in at most one). Under the "team"
//! record-visibility setting a sales user sees the records anyone in their team
//! owns; the router reads each user's team from the view published here
//! (`team-of:<user>` in the tenant's key-value store).

use crate::{internal, sessions, store, Ctx};
use edge_http::{FieldError, Problem, Reply};
use identity_domain::settings::{team_view_key, TeamView};
use identity_domain::{Access, Area};
use serde::Deserialize;
use spin_sdk::sqlite::Connection;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamInput {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Membership {
    team_id: Option<String>,
}

fn valid_name(name: &str) -> Result<String, Problem> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(Problem::validation(vec![FieldError::new("name", "is required (at most 80 characters)")]));
    }
    Ok(name.to_string())
}

fn name_taken() -> Problem {
    Problem::validation(vec![FieldError::new("name", "is already the name of a team")])
}

/// Republishes the team view of each of these users from the database.
fn publish(db: &Connection, users: &[String]) -> Result<(), Problem> {
    let kv = sessions::store().map_err(internal)?;
    let teams = store::list_teams(db).map_err(internal)?;
    for u in users {
        let key = team_view_key(u);
        match teams.iter().find(|t| t.members.contains(u)) {
            Some(t) => {
                let view = TeamView { team_id: t.id.clone(), members: t.members.clone() };
                kv.set(&key, &serde_json::to_vec(&view).map_err(internal)?).map_err(internal)?;
            }
            None => kv.delete(&key).map_err(internal)?,
        }
    }
    Ok(())
}

pub fn list(ctx: &Ctx) -> Result<Reply, Problem> {
    ctx.require(Area::Settings, Access::Read)?;
    let db = store::open().map_err(internal)?;
    let items = store::list_teams(&db).map_err(internal)?;
    Ok(Reply::json(200, &serde_json::json!({ "items": items, "next_cursor": null })))
}

pub fn create(ctx: &Ctx) -> Result<Reply, Problem> {
    let s = ctx.require(Area::Settings, Access::Write)?;
    let name = valid_name(&ctx.body::<TeamInput>()?.name)?;
    let db = store::open().map_err(internal)?;
    let team = store::tx(&db, || {
        if store::team_name_taken(&db, &name, None)? {
            return Ok(Err(name_taken()));
        }
        let t = store::insert_team(&db, &name)?;
        store::event_of(&db, &format!("user:{}", s.user_id), ctx.request_id.as_deref(), "team", &t.id, "created", None, Some(&t))?;
        Ok(Ok(t))
    })
    .map_err(internal)??;
    Ok(Reply::json(201, &team).with_header("location", format!("/api/v1/teams/{}", team.id)))
}

pub fn rename(ctx: &Ctx, id: &str) -> Result<Reply, Problem> {
    let s = ctx.require(Area::Settings, Access::Write)?;
    let name = valid_name(&ctx.body::<TeamInput>()?.name)?;
    let db = store::open().map_err(internal)?;
    let team = store::tx(&db, || {
        let Some(before) = store::team_by_id(&db, id)? else { return Ok(Err(Problem::not_found("No such team"))) };
        if store::team_name_taken(&db, &name, Some(id))? {
            return Ok(Err(name_taken()));
        }
        store::rename_team(&db, id, &name)?;
        let after = store::team_by_id(&db, id)?.unwrap_or_else(|| before.clone());
        store::event_of(&db, &format!("user:{}", s.user_id), ctx.request_id.as_deref(), "team", id, "renamed", Some(&before), Some(&after))?;
        Ok(Ok(after))
    })
    .map_err(internal)??;
    Ok(Reply::json(200, &team))
}

pub fn delete(ctx: &Ctx, id: &str) -> Result<Reply, Problem> {
    let s = ctx.require(Area::Settings, Access::Write)?;
    let db = store::open().map_err(internal)?;
    let members = store::tx(&db, || {
        let Some(before) = store::team_by_id(&db, id)? else { return Ok(Err(Problem::not_found("No such team"))) };
        store::delete_team(&db, id)?;
        store::event_of::<store::Team>(&db, &format!("user:{}", s.user_id), ctx.request_id.as_deref(), "team", id, "deleted", Some(&before), None)?;
        Ok(Ok(before.members))
    })
    .map_err(internal)??;
    publish(&db, &members)?;
    Ok(Reply::empty(204))
}

/// `PUT /api/v1/users/{id}/team` with `{"team_id": "t_…"}` or `{"team_id": null}`.
pub fn set_membership(ctx: &Ctx, user_id: &str) -> Result<Reply, Problem> {
    let s = ctx.require(Area::Settings, Access::Write)?;
    let body: Membership = ctx.body()?;
    let db = store::open().map_err(internal)?;
    let (user, affected) = store::tx(&db, || {
        let Some(mut user) = store::user_by_id(&db, user_id)? else { return Ok(Err(Problem::not_found("No such user"))) };
        let mut affected: Vec<String> = vec![user.id.clone()];
        for t in [user.team_id.as_deref(), body.team_id.as_deref()].into_iter().flatten() {
            match store::team_by_id(&db, t)? {
                Some(team) => affected.extend(team.members),
                None if Some(t) == body.team_id.as_deref() => {
                    return Ok(Err(Problem::validation(vec![FieldError::new("team_id", "is not a team")])));
                }
                None => {}
            }
        }
        let before = user.clone();
        user.team_id = body.team_id.clone();
        store::update_user(&db, &user)?;
        store::event(&db, &s.user_id, ctx.request_id.as_deref(), &user.id, "team-changed", Some(&before), Some(&user))?;
        Ok(Ok((user, affected)))
    })
    .map_err(internal)??;
    let mut affected = affected;
    affected.sort();
    affected.dedup();
    publish(&db, &affected)?;
    Ok(Reply::json(200, &user))
}
