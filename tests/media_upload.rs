//! Upload on send: every media element with a local path is stored as a blob while its message
//! waits in the send queue; the file checks; image renditions; cancel during an upload; and a
//! big upload never holding up the messages behind it.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::json;
use sha2::{Digest, Sha256};
use timsg::Event;

fn write_png(path: &Path, w: u32, h: u32) {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    img.save_with_format(path, image::ImageFormat::Png).unwrap();
}

fn random_file(dir: &Path, name: &str, n: usize) -> PathBuf {
    let mut v = vec![0u8; n];
    fastrand::Rng::with_seed(n as u64).fill(&mut v);
    let p = dir.join(name);
    std::fs::write(&p, v).unwrap();
    p
}

fn hex_sha(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
}

async fn send(s: &std::sync::Arc<timsg::Session>, elem: serde_json::Value) -> Res {
    call(s, "TIMMsgSendMessage", Some("bob"), 1, &json!({"message_elem_array": [elem]}).to_string()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_media_type_is_uploaded_and_downloadable() {
    let h = Harness::default();
    let alice = h.login("alice");
    let files = tempfile::tempdir().unwrap();
    let png = files.path().join("photo.png");
    write_png(&png, 1000, 800);
    let r = send(&alice, json!({"elem_type": 1, "image_elem_orig_path": png.to_str().unwrap(), "image_elem_level": 1}))
        .await;
    assert_eq!(r.code, 0, "{}", r.desc);
    let e = &r.json["message_elem_array"][0];
    assert_eq!(e["image_elem_format"], 3);
    assert_eq!(
        (e["image_elem_orig_pic_width"].as_i64(), e["image_elem_orig_pic_height"].as_i64()),
        (Some(1000), Some(800))
    );
    assert_eq!(
        (e["image_elem_large_pic_width"].as_i64(), e["image_elem_large_pic_height"].as_i64()),
        (Some(900), Some(720))
    );
    assert_eq!(
        (e["image_elem_thumb_pic_width"].as_i64(), e["image_elem_thumb_pic_height"].as_i64()),
        (Some(247), Some(198))
    );
    assert_eq!(e["image_elem_orig_id"], hex_sha(&png));
    assert_eq!(e["image_elem_orig_pic_size"], std::fs::metadata(&png).unwrap().len());
    assert_ne!(e["image_elem_thumb_id"], e["image_elem_orig_id"]);
    // Small images: every rendition is the original.
    let tiny = files.path().join("tiny.png");
    write_png(&tiny, 120, 90);
    let r = send(&alice, json!({"elem_type": 1, "image_elem_orig_path": tiny.to_str().unwrap()})).await;
    let e = &r.json["message_elem_array"][0];
    assert_eq!(e["image_elem_thumb_url"], e["image_elem_orig_url"]);

    let sound = random_file(files.path(), "voice.aac", 30_000);
    let r = send(
        &alice,
        json!({"elem_type": 2, "sound_elem_file_path": sound.to_str().unwrap(), "sound_elem_file_time": 3}),
    )
    .await;
    let e = &r.json["message_elem_array"][0];
    assert_eq!((e["sound_elem_file_size"].as_u64(), e["sound_elem_file_time"].as_u64()), (Some(30_000), Some(3)));
    assert_eq!(e["sound_elem_file_id"], hex_sha(&sound));

    let file = random_file(files.path(), "report.pdf", 70_000);
    let r = send(&alice, json!({"elem_type": 4, "file_elem_file_path": file.to_str().unwrap()})).await;
    let e = &r.json["message_elem_array"][0];
    assert_eq!(e["file_elem_file_name"], "report.pdf");
    let file_url = e["file_elem_url"].as_str().unwrap().to_string();

    let video = random_file(files.path(), "clip.mp4", 200_000);
    let snap = files.path().join("snap.png");
    write_png(&snap, 64, 48);
    let r = send(&alice, json!({"elem_type": 9, "video_elem_video_type": "mp4", "video_elem_video_path": video.to_str().unwrap(), "video_elem_video_duration": 5, "video_elem_image_type": "png", "video_elem_image_path": snap.to_str().unwrap()})).await;
    let e = &r.json["message_elem_array"][0];
    assert_eq!(e["video_elem_video_size"], 200_000);
    assert_eq!((e["video_elem_image_width"].as_i64(), e["video_elem_image_height"].as_i64()), (Some(64), Some(48)));
    let video_id = e["video_elem_video_id"].as_str().unwrap().to_string();

    // Downloads by URL and by ID give back the same bytes.
    let out = tempfile::tempdir().unwrap();
    let d = alice.download_elem_to_path(&file_url, "", &out.path().join("f")).unwrap();
    assert_eq!(d.finished().await.unwrap(), 70_000);
    assert_eq!(std::fs::read(out.path().join("f")).unwrap(), std::fs::read(&file).unwrap());
    let p = json!({"msg_download_elem_param_type": 2, "msg_download_elem_param_id": video_id, "msg_download_elem_param_business_id": 0, "msg_download_elem_param_url": ""});
    let (json, dest) = (p.to_string(), out.path().join("v"));
    let call = timsg::dispatch::ApiCall {
        api: "TIMMsgDownloadElemToPath",
        json: &json,
        path: dest.to_str(),
        ..Default::default()
    };
    assert_eq!(timsg::dispatch::dispatch(&alice, &call).await.code, 0);
    assert_eq!(hex_sha(&out.path().join("v")), hex_sha(&video));
    // The peer receives the message with the media fields filled.
    let history = call_history(&h).await;
    assert_eq!(history.as_array().unwrap().len(), 5);
}

async fn call_history(h: &Harness) -> serde_json::Value {
    let bob = h.login("bob");
    call(&bob, "TIMMsgGetMsgList", Some("alice"), 1, r#"{"msg_getmsglist_param_count": 50}"#).await.json
}

#[tokio::test]
async fn file_checks() {
    let h = Harness::new(|c| c.media_limits.image = 1000);
    let alice = h.login("alice");
    let files = tempfile::tempdir().unwrap();
    let missing = files.path().join("missing.png");
    let empty = random_file(files.path(), "empty.bin", 0);
    let big = files.path().join("big.png");
    write_png(&big, 200, 200);
    let not_image = random_file(files.path(), "fake.png", 500);
    let image = |p: &Path| json!({"elem_type": 1, "image_elem_orig_path": p.to_str().unwrap()});
    assert_eq!(send(&alice, image(&missing)).await.code, 7004);
    assert_eq!(send(&alice, json!({"elem_type": 4, "file_elem_file_path": empty.to_str().unwrap()})).await.code, 7006);
    assert_eq!(send(&alice, image(&big)).await.code, 7005);
    assert_eq!(send(&alice, image(files.path())).await.code, 7007);
    assert_eq!(send(&alice, image(&not_image)).await.code, 6031);
    // None of them was stored.
    assert_eq!(call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, "").await.json, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_upload_and_later_messages_do_not_wait() {
    let h = Harness::default();
    let alice = h.login("alice");
    let mut events = alice.take_events().unwrap();
    let files = tempfile::tempdir().unwrap();
    let video = random_file(files.path(), "big.mp4", 60 * 1024 * 1024);
    let conv = timsg::ConvRef::c2c("bob");
    let video_msg = |p: &Path| {
        let m = json!({"message_elem_array": [{"elem_type": 9, "video_elem_video_type": "mp4", "video_elem_video_path": p.to_str().unwrap()}]});
        serde_json::from_value::<timsg::wire::WireMessage>(m).unwrap().to_content()
    };

    // A text sent after a big video commits first.
    let big = alice.send_message(&conv, video_msg(&video)).unwrap();
    let text = send_text(&alice, "bob", 1, "after the video").await;
    assert_eq!(text["message_seq"], 1);
    let big = big.outcome().await.unwrap();
    assert_eq!(big.message.seq, 2);

    // Upload progress reaches the sender, increasing per element.
    let mut last = 0;
    let mut saw_progress = false;
    while let Ok(e) = events.try_recv() {
        if let Event::UploadProgress { index, current, total, .. } = e {
            assert_eq!((index, total), (0, 60 * 1024 * 1024));
            assert!(current > last);
            last = current;
            saw_progress = true;
        }
    }
    assert!(saw_progress);

    // Cancel while uploading: 8021 for the send, nothing stored, no partial blob.
    let other = random_file(files.path(), "other.mp4", 60 * 1024 * 1024 + 1);
    let pending = alice.send_message(&conv, video_msg(&other)).unwrap();
    loop {
        if let Event::UploadProgress { .. } = next_event(&mut events).await {
            break;
        }
    }
    alice.cancel_send(&conv, &pending.id).await.unwrap();
    assert_eq!(timsg::TimError::from(pending.outcome().await.unwrap_err()).code, 8021);
    // The upload notices the cancel at its next chunk and removes its temp file.
    let tmp = h.dir.path().join("blobs").join("tmp");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_dir(&tmp).unwrap().next().is_some() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!h.runtime.engine().blobs().exists(&hex_sha(&other)));
    assert_eq!(std::fs::read_dir(h.dir.path().join("blobs").join("tmp")).unwrap().count(), 0);
    let history = call(&alice, "TIMMsgGetMsgList", Some("bob"), 1, "").await.json;
    let statuses: Vec<_> = history.as_array().unwrap().iter().map(|m| m["message_status"].as_i64().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 2).count(), 2, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 7).count(), 1, "the sender keeps the cancelled one: {statuses:?}");
}

#[tokio::test]
async fn unreferenced_media_is_swept_referenced_media_is_kept() {
    let h = Harness::default();
    let alice = h.login("alice");
    let files = tempfile::tempdir().unwrap();
    let file = random_file(files.path(), "keep.bin", 5000);
    assert_eq!(send(&alice, json!({"elem_type": 4, "file_elem_file_path": file.to_str().unwrap()})).await.code, 0);
    let engine = h.runtime.engine();
    let orphan = engine.blobs().put_bytes(b"nobody refers to me").unwrap();
    assert_eq!(engine.sweep_blobs(std::time::Duration::from_secs(3600)).unwrap(), 0, "too young to sweep");
    assert_eq!(engine.sweep_blobs(std::time::Duration::ZERO).unwrap(), 1);
    assert!(!engine.blobs().exists(&orphan.hash));
    assert!(engine.blobs().exists(&hex_sha(&file)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_no_message_refers_to_is_swept_while_the_runtime_runs() {
    let h = Harness::new(|c| {
        c.blob_sweep_interval = std::time::Duration::from_millis(20);
        // Long enough for a send to commit what it uploaded; the orphan outlives it.
        c.blob_sweep_grace = std::time::Duration::from_millis(300);
    });
    let alice = h.login("alice");
    let files = tempfile::tempdir().unwrap();
    let kept = files.path().join("kept.txt");
    std::fs::write(&kept, b"sent in a message").unwrap();
    let r = send(&alice, json!({"elem_type": 4, "file_elem_file_path": kept.to_str().unwrap()})).await;
    assert_eq!(r.code, 0, "{}", r.desc);
    let blobs = h.runtime.engine().blobs();
    let orphan = blobs.put_bytes(b"uploaded, never sent").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while blobs.exists(&orphan.hash) {
        assert!(std::time::Instant::now() < deadline, "the orphan was not swept");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(blobs.exists(&hex_sha(&kept)), "media a message refers to stays");
}
