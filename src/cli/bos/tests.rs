//! The `rackboot bos` command tree as a user types it: flags, values and what clap must
//! refuse, plus the paths and tenant header every subcommand shares.

use std::path::Path;
use std::time::Duration;

use clap::Parser;
use serde_json::json;

use super::*;
use crate::cli::client::with_query;
use crate::cli::{Cli, Command};

fn parse(args: &[&str]) -> Result<BosArgs, clap::Error> {
    let mut full = vec!["rackboot", "bos"];
    full.extend_from_slice(args);
    match Cli::try_parse_from(full)?.command {
        Command::Bos(a) => Ok(a),
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn cli_bos_parses_session_create_with_every_flag() {
    let a = parse(&[
        "--tenant",
        "t1",
        "sessions",
        "create",
        "--template-name",
        "compute",
        "--operation",
        "reboot",
        "--name",
        "s1",
        "--limit",
        "x3000c0s1b0n0,!x3000c0s2b0n0",
        "--stage",
        "--include-disabled",
        "--watch",
        "--interval",
        "0.5",
        "--format",
        "json",
        "--url",
        "http://h:1",
    ])
    .unwrap();
    assert_eq!(a.tenant.as_deref(), Some("t1"));
    assert_eq!(a.client.format, Format::Json);
    assert_eq!(a.client.conn.url, "http://h:1");
    match a.client.command {
        BosCommand::Sessions(SessionsCommand::Create {
            template_name,
            operation,
            name,
            limit,
            stage,
            include_disabled,
            watch,
        }) => {
            assert_eq!(template_name, "compute");
            assert_eq!(operation, Operation::Reboot);
            assert_eq!(name.as_deref(), Some("s1"));
            assert_eq!(limit.as_deref(), Some("x3000c0s1b0n0,!x3000c0s2b0n0"));
            assert!(stage && include_disabled && watch.watch);
            assert_eq!(watch.interval, Duration::from_millis(500));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cli_bos_session_create_needs_template_and_a_known_operation() {
    assert!(parse(&["sessions", "create", "--operation", "boot"]).is_err());
    assert!(parse(&["sessions", "create", "--template-name", "t"]).is_err());
    assert!(
        parse(&[
            "sessions",
            "create",
            "--template-name",
            "t",
            "--operation",
            "configure"
        ])
        .is_err()
    );
    // --interval only means something with --watch.
    assert!(
        parse(&[
            "sessions",
            "create",
            "--template-name",
            "t",
            "--operation",
            "boot",
            "--interval",
            "2"
        ])
        .is_err()
    );
    let a = parse(&[
        "sessions",
        "create",
        "--template-name",
        "t",
        "--operation",
        "shutdown",
    ])
    .unwrap();
    assert!(a.tenant.is_none());
    match a.client.command {
        BosCommand::Sessions(SessionsCommand::Create {
            operation,
            stage,
            watch,
            ..
        }) => {
            assert_eq!(operation, Operation::Shutdown);
            assert!(!stage && !watch.watch);
            assert_eq!(watch.interval, Duration::from_secs(1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cli_bos_parses_session_list_filters_and_rejects_bad_ages() {
    let a = parse(&[
        "sessions",
        "list",
        "--status",
        "complete",
        "--min-age",
        "1d",
        "--max-age",
        "2w",
    ])
    .unwrap();
    match a.client.command {
        BosCommand::Sessions(SessionsCommand::List {
            status,
            min_age,
            max_age,
        }) => {
            assert_eq!(status, Some(SessionState::Complete));
            assert_eq!(min_age.as_deref(), Some("1d"));
            assert_eq!(max_age.as_deref(), Some("2w"));
        }
        other => panic!("{other:?}"),
    }
    assert!(parse(&["sessions", "list", "--min-age", "1y"]).is_err());
    assert!(parse(&["sessions", "list", "--status", "done"]).is_err());
}

#[test]
fn cli_bos_parses_status_watch_and_the_tenant_after_the_subcommand() {
    let a = parse(&["sessions", "status", "s1", "--watch", "--tenant", "t2"]).unwrap();
    assert_eq!(a.tenant.as_deref(), Some("t2"));
    match a.client.command {
        BosCommand::Sessions(SessionsCommand::Status { name, watch }) => {
            assert_eq!(name, "s1");
            assert!(watch.watch);
        }
        other => panic!("{other:?}"),
    }
    assert!(parse(&["sessions", "status", "s1", "--watch", "--interval", "0"]).is_err());
}

#[test]
fn cli_bos_parses_template_commands() {
    let a = parse(&["sessiontemplates", "create", "t", "--file", "t.yaml"]).unwrap();
    assert!(matches!(
        a.client.command,
        BosCommand::Sessiontemplates(TemplatesCommand::Create { ref name, ref file })
            if name == "t" && file == Path::new("t.yaml")
    ));
    assert!(parse(&["sessiontemplates", "create", "t"]).is_err());
    assert!(parse(&["sessiontemplates", "update", "t"]).is_err());
    for cmd in [
        &["sessiontemplates", "list"][..],
        &["sessiontemplates", "get", "t"],
        &["sessiontemplates", "delete", "t"],
        &["sessiontemplates", "validate", "t"],
        &["sessiontemplates", "skeleton"],
    ] {
        parse(cmd).unwrap();
    }
}

#[test]
fn cli_bos_parses_component_commands() {
    let a = parse(&[
        "components",
        "list",
        "--ids",
        "x1,x2",
        "--ids",
        "x3",
        "--enabled",
        "false",
        "--phase",
        "powering_on",
        "--status",
        "failed,on_hold",
        "--session",
        "s",
    ])
    .unwrap();
    match a.client.command {
        BosCommand::Components(ComponentsCommand::List {
            ids,
            enabled,
            phase,
            status,
            session,
            staged_session,
        }) => {
            assert_eq!(split_list(&ids), ["x1", "x2", "x3"]);
            assert_eq!(enabled, Some(false));
            assert_eq!(phase.as_deref(), Some("powering_on"));
            assert_eq!(split_list(&status), ["failed", "on_hold"]);
            assert_eq!(session.as_deref(), Some("s"));
            assert_eq!(staged_session, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(parse(&["components", "list", "--enabled", "maybe"]).is_err());
    let a = parse(&[
        "components",
        "update",
        "x1",
        "--enabled",
        "true",
        "--retry-policy",
        "5",
        "--clear-error",
    ])
    .unwrap();
    match a.client.command {
        BosCommand::Components(ComponentsCommand::Update {
            id,
            enabled,
            retry_policy,
            clear_error,
            file,
        }) => {
            assert_eq!(id, "x1");
            assert_eq!(enabled, Some(true));
            assert_eq!(retry_policy, Some(5));
            assert!(clear_error);
            assert!(file.is_none());
        }
        other => panic!("{other:?}"),
    }
    assert!(parse(&["components", "update", "x1", "--retry-policy", "-1"]).is_err());
}

#[test]
fn cli_bos_parses_applystaged_and_options() {
    let a = parse(&["applystaged", "x1", "x2,x3"]).unwrap();
    match a.client.command {
        BosCommand::Applystaged { xnames } => {
            assert_eq!(split_list(&xnames), ["x1", "x2", "x3"])
        }
        other => panic!("{other:?}"),
    }
    assert!(parse(&["applystaged"]).is_err());
    let a = parse(&[
        "options",
        "set",
        "polling_frequency=5",
        "logging_level=DEBUG",
    ])
    .unwrap();
    match a.client.command {
        BosCommand::Options(OptionsCommand::Set { values }) => assert_eq!(
            values,
            [
                ("polling_frequency".to_string(), json!(5)),
                ("logging_level".to_string(), json!("DEBUG"))
            ]
        ),
        other => panic!("{other:?}"),
    }
    assert!(parse(&["options", "set"]).is_err());
    assert!(parse(&["options", "set", "novalue"]).is_err());
    parse(&["options", "get"]).unwrap();
}

#[test]
fn cli_bos_paths_encode_names_and_queries() {
    assert_eq!(
        path(&["sessions", "s1", "status"]),
        "/apis/bos/v2/sessions/s1/status"
    );
    assert_eq!(
        path(&["sessiontemplates", "a b/c?d"]),
        "/apis/bos/v2/sessiontemplates/a%20b%2Fc%3Fd"
    );
    assert_eq!(
        with_query::<&str>(path(&["sessions"]), &[]),
        "/apis/bos/v2/sessions"
    );
    assert_eq!(
        with_query(
            path(&["components"]),
            &[("ids", "x1,x2".into()), ("enabled", "true".into())]
        ),
        "/apis/bos/v2/components?ids=x1%2Cx2&enabled=true"
    );
    assert_eq!(truncate("abcdef", 4), "abc…");
    assert_eq!(truncate("abc", 4), "abc");
}

#[test]
fn cli_bos_tenant_must_be_a_header_value() {
    let c = Client::new("http://127.0.0.1:1");
    assert!(with_tenant(&c, Some("t1")).is_ok());
    assert!(with_tenant(&c, Some("")).is_ok());
    assert!(with_tenant(&c, Some("bad\nname")).is_err());
}
