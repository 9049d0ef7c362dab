//! Authentication: UserSig v2 (the TLSSigAPIv2 format) made and verified.

pub mod usersig;
pub mod verified_sigs;
