//! The management API end to end: the pytest suite in `tests/admin` drives the binary this
//! build made with boto3 and the AWS CLI (installed into `target/pyenv` by
//! `tests/admin/setup.sh` when missing).

use std::process::Command;

#[test]
fn boto3_and_aws_cli_suite() {
    let root = env!("CARGO_MANIFEST_DIR");
    let setup = Command::new("bash").arg(format!("{root}/tests/admin/setup.sh")).output().expect("bash runs");
    assert!(setup.status.success(), "tests/admin/setup.sh failed:\n{}", String::from_utf8_lossy(&setup.stderr));
    let python = String::from_utf8(setup.stdout).unwrap().trim().to_string();
    let run = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/admin"])
        .current_dir(root)
        .env("PORTICO_BIN", env!("CARGO_BIN_EXE_portico"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("pytest runs");
    let report = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    println!("{report}");
    assert!(run.status.success(), "the management API suite failed:\n{report}");
}
