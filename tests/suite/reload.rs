//! Hot reload: a changed document is swapped in whole while requests keep flowing (none
//! fails), an invalid one is refused and the old plan keeps serving, and SIGHUP reloads too.

use crate::common;

use common::{get, mock_method, spawn_serve};
use portico::server::{self, reload, Gateway};
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn document(routes: &[&str]) -> String {
    let resources: Vec<serde_json::Value> =
        routes.iter().map(|r| json!({"path": format!("/{r}"), "resourceMethods": {"GET": mock_method(r)}})).collect();
    json!({"restApi": {"name": "reloading"}, "stages": [{"stageName": "dev"}], "resources": resources}).to_string()
}

/// Replaces the file in one step, as editors and deploy tools do.
fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn wait_for(url: &str, status: u16) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while get(url).await.status != status {
        assert!(Instant::now() < deadline, "{url} never answered {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn reload_under_load_and_refused_reload() {
    let dir = std::env::temp_dir().join(format!("portico-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("api.json");
    write(&path, &document(&["a"]));
    let gateway = Gateway::new(portico::config::load_file(&path).unwrap());
    let running = server::start(gateway.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    reload::watch(gateway.clone(), path.clone(), Duration::from_millis(100));
    let base = format!("http://{}/dev", running.addr);

    // A steady load on /a for the whole reload.
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (stop, sent, failed, url) = (stop.clone(), sent.clone(), failed.clone(), format!("{base}/a"));
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let reply = get(&url).await;
                sent.fetch_add(1, Ordering::Relaxed);
                if reply.status != 200 || reply.text() != "a" {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(get(&format!("{base}/b")).await.status, 403);
    write(&path, &document(&["a", "b"]));
    wait_for(&format!("{base}/b"), 200).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    assert!(sent.load(Ordering::Relaxed) > 20, "the load ran");
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no request failed during the reload");
    assert_eq!(gateway.reloads.load(Ordering::Relaxed), 1);

    // An invalid document is refused; the old plan keeps serving.
    write(&path, r#"{"restApi": {"name": "broken", "colour": "blue"}, "resources": []}"#);
    let deadline = Instant::now() + Duration::from_secs(5);
    while gateway.failed_reloads.load(Ordering::Relaxed) == 0 {
        assert!(Instant::now() < deadline, "the invalid document was never read");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(get(&format!("{base}/a")).await.status, 200);
    assert_eq!(get(&format!("{base}/b")).await.text(), "b");
    running.shutdown().await;
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn changes_name_added_removed_and_changed_methods() {
    let old = portico::config::compile_text(&document(&["a", "b"]), true).unwrap();
    let mut new_doc: serde_json::Value = serde_json::from_str(&document(&["a", "c"])).unwrap();
    new_doc["resources"][0]["resourceMethods"]["GET"] = mock_method("a, changed");
    let new = portico::config::compile_text(&new_doc.to_string(), true).unwrap();
    let c = reload::changes(&old, &new);
    assert_eq!(c.added, vec!["GET /c"]);
    assert_eq!(c.removed, vec!["GET /b"]);
    assert_eq!(c.changed, vec!["GET /a"]);
    assert_eq!(c.to_string(), "added: GET /c; removed: GET /b; changed: GET /a");
}

#[tokio::test]
async fn sighup_reloads() {
    use std::process::Command;
    let dir = std::env::temp_dir().join(format!("portico-hup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("api.json");
    write(&path, &document(&["a"]));
    let (mut child, mut lines) = spawn_serve(&path, &["--no-watch", "--listen", "127.0.0.1:0"]);
    lines.next();
    let base = lines.next().unwrap().unwrap().trim().to_string();
    write(&path, &document(&["a", "b"]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(get(&format!("{base}b")).await.status, 403, "not watched: nothing changes yet");
    assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    wait_for(&format!("{base}b"), 200).await;
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    assert_eq!(tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap().code(), Some(0));
    std::fs::remove_dir_all(&dir).ok();
}
