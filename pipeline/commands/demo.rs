use super::AppError; use crate::cli::DemoArgs; pub fn run(_a:&DemoArgs,_t:usize)->Result<(),AppError>{Ok(())}
