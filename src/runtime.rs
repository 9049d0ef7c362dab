//! `Runtime`: the embedded timsg runtime. Open it on a data directory, log users in, and each
//! [`Session`] speaks the TIM message API as that user.

use std::path::PathBuf;

use timsg_actors::ids::{UserId, is_valid_identifier};
use timsg_actors::{Engine, EngineConfig};

use crate::access::Access;
use crate::error::{TimError, TimResult, code};
use crate::session::Session;

/// Configuration of a runtime; every field has the TIM default.
pub type RuntimeConfig = EngineConfig;

/// A running timsg: the actor system, the store, and every logged-in user.
#[derive(Debug, Clone)]
pub struct Runtime {
    engine: Engine,
}

impl Runtime {
    /// Opens (or creates) the store and starts the actors.
    pub fn open(config: RuntimeConfig) -> TimResult<Runtime> {
        let engine = Engine::open(config)
            .map_err(|e| TimError::new(code::ERR_DATABASE_OPERATE_FAILED, format!("cannot open the store: {e}")))?;
        // Cluster mode: a user's events go to the events stream, as the listeners' JSON, for
        // whichever node holds the user's sockets.
        if let Some(cluster) = engine.cluster().cloned() {
            let format = |event: &timsg_actors::events::Event| {
                let (listener, body) = crate::events::to_listener_json(event);
                (listener.name(), body)
            };
            engine.set_event_relay(
                Box::new(move |user, event| {
                    let (name, body) = format(event);
                    cluster.publish_event(user, name, body)
                }),
                Box::new(format),
            );
        }
        Ok(Runtime { engine })
    }

    /// Opens a runtime on `dir` with the default (fsync) durability.
    pub fn open_dir(dir: impl Into<PathBuf>) -> TimResult<Runtime> {
        Runtime::open(RuntimeConfig { data_dir: dir.into(), ..Default::default() })
    }

    /// Logs `user_id` in: a session that acts as that user and hears its events. Its caller is
    /// the device: it may name local files and any URL.
    pub fn login(&self, user_id: &str) -> TimResult<Session> {
        self.login_with(user_id, Access::Device)
    }

    /// Logs `user_id` in for a caller with the given access (the service logs its users in as
    /// [`Access::Remote`]).
    pub fn login_with(&self, user_id: &str, access: Access) -> TimResult<Session> {
        if !is_valid_identifier(user_id) {
            return Err(TimError::new(
                code::ERR_SDK_COMM_INVALID_IDENTIFIER,
                format!("invalid user id {user_id:?}: 1 to 32 bytes of printable ascii, no path and no @TIM# prefix"),
            ));
        }
        Session::new(self.engine.clone(), UserId::from(user_id), access)
    }

    /// Acts as `user_id` for one call without logging it in (no event stream, no logout
    /// point): how a cluster node runs a call another node forwarded to it.
    pub fn acting_for(&self, user_id: &str, access: Access) -> TimResult<Session> {
        if !is_valid_identifier(user_id) {
            return Err(TimError::new(code::ERR_SDK_COMM_INVALID_IDENTIFIER, format!("invalid user id {user_id:?}")));
        }
        Ok(Session::acting_for(self.engine.clone(), UserId::from(user_id), access))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Stops the actors and flushes the store.
    pub fn shutdown(&self) {
        self.engine.shutdown();
    }
}
