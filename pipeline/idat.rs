//! The IDAT reader: the workspace crate `agemark-idat` (`crates/idat`), which knows nothing
//! of the rest of agemark, re-exported here with the category of its errors.

pub use agemark_idat::*;

impl crate::core::error::Categorised for IdatError {
    fn category(&self) -> crate::core::error::Category {
        crate::core::error::category_of_input_message(&self.message)
    }
}
