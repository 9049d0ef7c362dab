//! The names a load run gives its users and groups: each carries the run's ID, so rounds of
//! `timsg load` against one running service never meet each other's users, groups or unread
//! messages (a second round with the same names found its groups taken and its users owed
//! the first round's messages). `--run-id ""` keeps the bare names (`u7`, `load-g3`).

/// Longest run ID: a user's name (at most 32 bytes) keeps room for `-u` and the index.
pub const MAX_RUN_ID: usize = 16;

#[derive(Debug, Clone)]
pub struct RunNames {
    run: String,
}

impl RunNames {
    /// Names under `run`: letters, digits and `_`, at most [`MAX_RUN_ID`] bytes, or empty.
    pub fn new(run: &str) -> Result<RunNames, String> {
        if run.len() > MAX_RUN_ID || !run.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "--run-id {run:?}: up to {MAX_RUN_ID} letters, digits or underscores (empty: no prefix)"
            ));
        }
        Ok(RunNames { run: run.to_string() })
    }

    /// Names under a run ID of its own (six hex digits).
    pub fn fresh() -> RunNames {
        RunNames { run: format!("r{:06x}", fastrand::u32(..1 << 24)) }
    }

    pub fn run(&self) -> &str {
        &self.run
    }

    /// User `u`'s name.
    pub fn user(&self, u: u32) -> String {
        match self.run.as_str() {
            "" => format!("u{u}"),
            run => format!("{run}-u{u}"),
        }
    }

    /// The `i`th conversation's group ID, if it is a group.
    pub fn group(&self, i: usize) -> String {
        match self.run.as_str() {
            "" => format!("load-g{i}"),
            run => format!("{run}-g{i}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_run_and_stay_valid_identifiers() {
        let names = RunNames::new("r1a2b3c").unwrap();
        assert_eq!((names.user(7), names.group(3)), ("r1a2b3c-u7".to_string(), "r1a2b3c-g3".to_string()));
        let bare = RunNames::new("").unwrap();
        assert_eq!((bare.user(7), bare.group(3)), ("u7".to_string(), "load-g3".to_string()));
        let longest = RunNames::new(&"x".repeat(MAX_RUN_ID)).unwrap();
        assert!(timsg_actors::ids::is_valid_identifier(&longest.user(u32::MAX)));
        assert!(RunNames::new(&"x".repeat(MAX_RUN_ID + 1)).is_err());
        assert!(RunNames::new("../x").is_err());
        assert_ne!(RunNames::fresh().run(), RunNames::fresh().run(), "(1 chance in 16 million to fail)");
    }
}
