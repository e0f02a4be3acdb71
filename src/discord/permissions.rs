//! A member's permissions in a channel, computed from the guild's roles and the channel's
//! overwrites as Discord's permissions page describes ("Permission Overwrites", the
//! `compute_base_permissions` / `compute_overwrites` pseudocode), over raw bit sets (pure).
//!
//! Why not serenity's `Permissions`: serenity 0.12.5 deserializes every permission bit set with
//! `from_bits_truncate`, so bits newer than it (PIN_MESSAGES, `1 << 51`) are dropped from
//! interaction payloads, roles and overwrites alike. The bot reads the guild and the channel as
//! raw JSON and computes here instead.

use serde::Deserialize;

/// `1 << 3`: every permission, overwrites ignored.
pub const ADMINISTRATOR: u64 = 1 << 3;
/// `1 << 13`: no longer enough to pin since 2026-02-23.
#[cfg(test)]
pub const MANAGE_MESSAGES: u64 = 1 << 13;
/// `1 << 51`: pin and unpin messages (Discord change log, "Permission Changes Going into Effect
/// February 2026").
pub const PIN_MESSAGES: u64 = 1 << 51;
const ALL: u64 = u64::MAX;

/// The parts of a guild object the computation needs (`GET /guilds/{guild.id}`).
#[derive(Debug, Clone, Deserialize)]
pub struct Guild {
    pub id: String,
    pub owner_id: String,
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Role {
    pub id: String,
    /// A decimal string, as Discord sends bit sets.
    pub permissions: String,
}

/// The parts of a channel object the computation needs (`GET /channels/{channel.id}`).
#[derive(Debug, Clone, Deserialize)]
pub struct Channel {
    #[serde(default)]
    pub permission_overwrites: Vec<Overwrite>,
    /// Threads take their overwrites from this parent channel.
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: u8,
}

impl Channel {
    /// Threads (announcement, public, private) have no overwrites of their own.
    pub fn is_thread(&self) -> bool {
        matches!(self.kind, 10..=12)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Overwrite {
    /// A role id or a user id.
    pub id: String,
    pub allow: String,
    pub deny: String,
}

fn bits(s: &str) -> u64 {
    s.trim().parse().unwrap_or(0)
}

/// The permissions of member `user` (with role ids `roles`) in `channel` of `guild`.
pub fn in_channel(guild: &Guild, channel: &Channel, user: &str, roles: &[String]) -> u64 {
    if guild.owner_id == user {
        return ALL;
    }
    let role = |id: &str| guild.roles.iter().find(|r| r.id == id).map_or(0, |r| bits(&r.permissions));
    let mut base = role(&guild.id);
    for r in roles {
        base |= role(r);
    }
    if base & ADMINISTRATOR != 0 {
        return ALL;
    }
    let overwrite = |id: &str| channel.permission_overwrites.iter().find(|o| o.id == id).map(|o| (bits(&o.allow), bits(&o.deny)));
    let mut p = base;
    if let Some((allow, deny)) = overwrite(&guild.id) {
        p &= !deny;
        p |= allow;
    }
    let (mut allow, mut deny) = (0, 0);
    for r in roles {
        if let Some((a, d)) = overwrite(r) {
            allow |= a;
            deny |= d;
        }
    }
    p &= !deny;
    p |= allow;
    if let Some((allow, deny)) = overwrite(user) {
        p &= !deny;
        p |= allow;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guild() -> Guild {
        serde_json::from_value(serde_json::json!({
            "id": "1", "owner_id": "9", "name": "invented guild",
            "roles": [
                {"id": "1", "permissions": (1u64 << 10 | 1 << 11).to_string()},
                {"id": "2", "permissions": MANAGE_MESSAGES.to_string()},
                {"id": "3", "permissions": PIN_MESSAGES.to_string()},
                {"id": "4", "permissions": ADMINISTRATOR.to_string()}
            ]
        }))
        .expect("fixture")
    }

    fn channel(overwrites: serde_json::Value) -> Channel {
        serde_json::from_value(serde_json::json!({"id": "5", "type": 0, "permission_overwrites": overwrites})).expect("fixture")
    }

    fn roles(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pin_messages_is_its_own_bit_and_manage_messages_does_not_grant_it() {
        let (g, c) = (guild(), channel(serde_json::json!([])));
        assert_eq!(in_channel(&g, &c, "7", &roles(&["2"])) & PIN_MESSAGES, 0);
        assert_ne!(in_channel(&g, &c, "7", &roles(&["3"])) & PIN_MESSAGES, 0);
        assert_ne!(in_channel(&g, &c, "7", &roles(&["4"])) & PIN_MESSAGES, 0, "administrators have every permission");
        assert_ne!(in_channel(&g, &c, "9", &[]) & PIN_MESSAGES, 0, "the owner has every permission");
        assert_eq!(in_channel(&g, &c, "7", &[]) & PIN_MESSAGES, 0);
    }

    #[test]
    fn overwrites_apply_everyone_then_roles_then_the_member() {
        let g = guild();
        let pin = PIN_MESSAGES.to_string();
        // the channel takes Pin Messages from the role, gives it to one member
        let c = channel(serde_json::json!([
            {"id": "3", "type": 0, "allow": "0", "deny": pin},
            {"id": "8", "type": 1, "allow": pin, "deny": "0"}
        ]));
        assert_eq!(in_channel(&g, &c, "7", &roles(&["3"])) & PIN_MESSAGES, 0);
        assert_ne!(in_channel(&g, &c, "8", &roles(&["3"])) & PIN_MESSAGES, 0);
        // @everyone allowed in the channel, a role's deny wins over it
        let c = channel(serde_json::json!([
            {"id": "1", "type": 0, "allow": pin, "deny": "0"},
            {"id": "2", "type": 0, "allow": "0", "deny": pin}
        ]));
        assert_ne!(in_channel(&g, &c, "7", &[]) & PIN_MESSAGES, 0);
        assert_eq!(in_channel(&g, &c, "7", &roles(&["2"])) & PIN_MESSAGES, 0);
        // administrators ignore overwrites
        assert_ne!(in_channel(&g, &c, "7", &roles(&["2", "4"])) & PIN_MESSAGES, 0);
    }
}
