//! `reingest --help` never prints the database password from `DATABASE_URL`.

#[test]
fn help_never_prints_the_database_password() {
    for args in [vec!["--help"], vec!["run", "--help"], vec!["-h"]] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_reingest"))
            .env(
                "DATABASE_URL",
                "postgres://op:S3cr3tPw@db.example.com/platform",
            )
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("DATABASE_URL"), "{text}");
        assert!(
            !text.contains("S3cr3tPw"),
            "{args:?}: the password is printed:\n{text}"
        );
    }
}
