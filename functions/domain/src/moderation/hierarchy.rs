//! Who Steward may act on: Discord's permission bits, the owner, administrators and the role
//! hierarchy, checked before any call so a refusal is known, not discovered.

use serde::{Deserialize, Serialize};

use super::case::Action;
use crate::ids::{GuildId, RoleId, UserId};

/// A set of Discord permission bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Permissions(pub u64);

impl Permissions {
    /// `KICK_MEMBERS`.
    pub const KICK_MEMBERS: Self = Self(1 << 1);
    /// `BAN_MEMBERS`.
    pub const BAN_MEMBERS: Self = Self(1 << 2);
    /// `ADMINISTRATOR`: every permission, and immune to moderation.
    pub const ADMINISTRATOR: Self = Self(1 << 3);
    /// `MANAGE_GUILD`.
    pub const MANAGE_GUILD: Self = Self(1 << 5);
    /// `SEND_MESSAGES`.
    pub const SEND_MESSAGES: Self = Self(1 << 11);
    /// `MANAGE_MESSAGES`.
    pub const MANAGE_MESSAGES: Self = Self(1 << 13);
    /// `MODERATE_MEMBERS` (timeouts).
    pub const MODERATE_MEMBERS: Self = Self(1 << 40);

    /// Whether every bit of `other` is set (administrators have them all).
    #[must_use]
    pub const fn has(self, other: Self) -> bool {
        self.0 & Self::ADMINISTRATOR.0 != 0 || self.0 & other.0 == other.0
    }

    /// The permission's constant name, for logs, cases and health.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self.0 {
            x if x == Self::KICK_MEMBERS.0 => "KICK_MEMBERS",
            x if x == Self::BAN_MEMBERS.0 => "BAN_MEMBERS",
            x if x == Self::ADMINISTRATOR.0 => "ADMINISTRATOR",
            x if x == Self::MANAGE_GUILD.0 => "MANAGE_GUILD",
            x if x == Self::SEND_MESSAGES.0 => "SEND_MESSAGES",
            x if x == Self::MANAGE_MESSAGES.0 => "MANAGE_MESSAGES",
            x if x == Self::MODERATE_MEMBERS.0 => "MODERATE_MEMBERS",
            _ => "UNKNOWN",
        }
    }

    /// The permission an action needs.
    #[must_use]
    pub const fn for_action(action: Action) -> Self {
        match action {
            Action::Delete => Self::MANAGE_MESSAGES,
            Action::Warn => Self::SEND_MESSAGES,
            Action::Timeout => Self::MODERATE_MEMBERS,
            Action::Kick => Self::KICK_MEMBERS,
            Action::Ban => Self::BAN_MEMBERS,
        }
    }

    /// Whether the member can moderate, so `exempt_moderators` covers them.
    #[must_use]
    pub const fn can_moderate(self) -> bool {
        let any = Self::ADMINISTRATOR.0
            | Self::MANAGE_GUILD.0
            | Self::MANAGE_MESSAGES.0
            | Self::KICK_MEMBERS.0
            | Self::BAN_MEMBERS.0
            | Self::MODERATE_MEMBERS.0;
        self.0 & any != 0
    }
}

/// One role of a guild.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Its id (the guild's id for `@everyone`).
    pub id: RoleId,
    /// Its position: higher is more powerful.
    pub position: i64,
    /// What it grants.
    pub permissions: Permissions,
}

/// What the hierarchy checks need of a guild.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuildRoles {
    /// The guild.
    pub guild: GuildId,
    /// Its owner, who can never be acted on.
    pub owner: UserId,
    /// Every role, `@everyone` included.
    pub roles: Vec<Role>,
}

/// Why a member cannot be acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protected {
    /// The guild's owner.
    Owner,
    /// An administrator.
    Administrator,
    /// Their top role is not below the bot's.
    RoleNotBelowBot,
}

impl Protected {
    /// The case's `detail`.
    #[must_use]
    pub const fn detail(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Administrator => "administrator",
            Self::RoleNotBelowBot => "role_below_bot",
        }
    }
}

impl GuildRoles {
    /// What a member with `roles` may do (guild-wide; channel overwrites are not considered).
    #[must_use]
    pub fn permissions(&self, roles: &[RoleId]) -> Permissions {
        let everyone = RoleId::new(self.guild.get()).ok();
        Permissions(
            self.roles
                .iter()
                .filter(|role| Some(role.id) == everyone || roles.contains(&role.id))
                .fold(0, |bits, role| bits | role.permissions.0),
        )
    }

    /// The rank of a member's highest role: (position, then the lower id ranks higher, as Discord
    /// orders roles of equal position). `@everyone` ranks lowest.
    fn top(&self, roles: &[RoleId]) -> (i64, std::cmp::Reverse<u64>) {
        self.roles
            .iter()
            .filter(|role| roles.contains(&role.id))
            .map(|role| (role.position, std::cmp::Reverse(role.id.get())))
            .max()
            .unwrap_or((i64::MIN, std::cmp::Reverse(u64::MAX)))
    }

    /// Whether the bot (holding `bot_roles`) may act on `member` (holding `member_roles`).
    ///
    /// # Errors
    /// Returns why the member is protected.
    pub fn actionable(&self, member: UserId, member_roles: &[RoleId], bot_roles: &[RoleId]) -> Result<(), Protected> {
        if member == self.owner {
            return Err(Protected::Owner);
        }
        if self.permissions(member_roles).has(Permissions::ADMINISTRATOR) {
            return Err(Protected::Administrator);
        }
        if self.top(member_roles) >= self.top(bot_roles) {
            return Err(Protected::RoleNotBelowBot);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: u64, position: i64, permissions: u64) -> Role {
        Role { id: RoleId::new(id).unwrap(), position, permissions: Permissions(permissions) }
    }

    fn guild() -> GuildRoles {
        GuildRoles {
            guild: GuildId::new(1).unwrap(),
            owner: UserId::new(99).unwrap(),
            roles: vec![
                role(1, 0, Permissions::SEND_MESSAGES.0),
                role(10, 5, Permissions::MANAGE_MESSAGES.0 | Permissions::BAN_MEMBERS.0),
                role(20, 3, 0),
                role(21, 5, 0),
                role(30, 9, Permissions::ADMINISTRATOR.0),
            ],
        }
    }

    #[test]
    fn the_owner_administrators_and_members_not_below_the_bot_are_protected() {
        let g = guild();
        let id = |n| RoleId::new(n).unwrap();
        let bot = [id(10)];
        let member = UserId::new(5).unwrap();
        assert_eq!(g.actionable(member, &[id(20)], &bot), Ok(()));
        assert_eq!(g.actionable(member, &[], &bot), Ok(()), "@everyone only");
        assert_eq!(g.actionable(UserId::new(99).unwrap(), &[], &bot), Err(Protected::Owner));
        assert_eq!(g.actionable(member, &[id(30)], &bot), Err(Protected::Administrator));
        assert_eq!(g.actionable(member, &[id(10)], &bot), Err(Protected::RoleNotBelowBot), "the same role");
        assert_eq!(g.actionable(member, &[id(21)], &bot), Ok(()), "equal position, higher id ranks lower");
        assert_eq!(g.actionable(member, &[id(10)], &[id(21)]), Err(Protected::RoleNotBelowBot));
    }

    #[test]
    fn permissions_add_up_from_everyone_and_roles_and_administrators_have_all() {
        let g = guild();
        let bot = g.permissions(&[RoleId::new(10).unwrap()]);
        assert!(bot.has(Permissions::MANAGE_MESSAGES) && bot.has(Permissions::SEND_MESSAGES));
        assert!(!bot.has(Permissions::KICK_MEMBERS));
        assert!(g.permissions(&[RoleId::new(30).unwrap()]).has(Permissions::KICK_MEMBERS));
        assert!(bot.can_moderate() && !g.permissions(&[]).can_moderate());
        assert_eq!(Permissions::for_action(Action::Timeout).name(), "MODERATE_MEMBERS");
    }
}
