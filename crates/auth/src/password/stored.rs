//! A stored Argon2 hash (a PHC string), parsed into what recomputes it.

use argon2::password_hash::phc::{self, Output, ParamsString, Salt};
use argon2::{Algorithm, Params, Version};

use super::{HashError, MAX_STORED_BLOCKS, MAX_STORED_PASSES, SALT_LEN};

/// A parsed Argon2 PHC string: everything needed to recompute it.
#[derive(Clone)]
pub(super) struct StoredHash {
    pub(super) algorithm: Algorithm,
    pub(super) version: Version,
    pub(super) params: Params,
    pub(super) salt: Salt,
    pub(super) expected: Output,
}

impl StoredHash {
    pub(super) fn parse(phc: &str) -> Result<Self, &'static str> {
        let hash = phc::PasswordHash::new(phc).map_err(|_| "not a PHC string")?;
        let algorithm = Algorithm::new(hash.algorithm.as_str()).map_err(|_| "not an Argon2 hash")?;
        // No version means 0x10, as the reference implementation reads such strings.
        let version =
            hash.version.map_or(Ok(Version::V0x10), Version::try_from).map_err(|_| "unknown Argon2 version")?;
        let params = Params::try_from(&hash).map_err(|_| "invalid Argon2 parameters")?;
        if !params.keyid().is_empty() {
            return Err("keyed Argon2 hash (needs a secret we do not have)");
        }
        if params.block_count() > MAX_STORED_BLOCKS || params.t_cost() > MAX_STORED_PASSES {
            return Err("absurd Argon2 cost");
        }
        let salt = hash.salt.ok_or("no salt")?;
        let expected = hash.hash.ok_or("no hash output")?;
        Ok(Self { algorithm, version, params, salt, expected })
    }

    /// Whether a hash made now would differ in anything but the salt.
    pub(super) fn differs_from(&self, current: &Params) -> bool {
        self.algorithm != Algorithm::Argon2id
            || self.version != Version::V0x13
            || self.params.m_cost() != current.m_cost()
            || self.params.t_cost() != current.t_cost()
            || self.params.p_cost() != current.p_cost()
            || self.expected.len() != current.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)
            || !self.params.data().is_empty()
            || self.salt.len() < SALT_LEN
    }

    pub(super) fn to_phc(&self) -> Result<String, HashError> {
        let hash = phc::PasswordHash {
            algorithm: self.algorithm.ident(),
            version: Some(self.version.into()),
            params: ParamsString::try_from(&self.params).map_err(HashError::Encoding)?,
            salt: Some(self.salt),
            hash: Some(self.expected),
        };
        Ok(hash.to_string())
    }
}
