//! `rackboot images import|list|delete`: boot images in the artifact source.
//!
//! `import` streams each file to the appliance (any size, with a progress bar over all
//! bytes), then has it write the IMS-style manifest; the image's manifest path is what a
//! boot set or boot parameters name.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde_json::{Value, json};

use super::Client;
use super::output::{Format, as_array, field, show, table};

#[derive(Subcommand, Debug)]
pub enum ImagesCommand {
    /// Upload a kernel (and optionally an initrd and a root filesystem) as an image
    Import {
        #[arg(long)]
        name: String,
        #[arg(long)]
        kernel: PathBuf,
        #[arg(long)]
        initrd: Option<PathBuf>,
        #[arg(long)]
        rootfs: Option<PathBuf>,
        /// Default kernel parameters of the image
        #[arg(long)]
        params: Option<String>,
        /// No progress bar
        #[arg(long)]
        quiet: bool,
    },
    /// List images
    List,
    /// Delete an image and all its artifacts
    Delete { name: String },
}

pub async fn run(c: &Client, format: Format, cmd: ImagesCommand) -> anyhow::Result<()> {
    match cmd {
        ImagesCommand::Import {
            name,
            kernel,
            initrd,
            rootfs,
            params,
            quiet,
        } => {
            let files: Vec<(&str, PathBuf)> = [
                ("kernel", Some(kernel)),
                ("initrd", initrd),
                ("rootfs", rootfs),
            ]
            .into_iter()
            .filter_map(|(k, p)| p.map(|p| (k, p)))
            .collect();
            // Check the name and every file before sending anything.
            if !crate::app::images::valid_name(&name) {
                anyhow::bail!(
                    "invalid image name '{name}': use letters, digits, '-', '_' and '.' (not first)"
                );
            }
            let mut total = 0;
            for (kind, path) in &files {
                let m = std::fs::metadata(path)
                    .with_context(|| format!("--{kind} {}: cannot read it", path.display()))?;
                if !m.is_file() {
                    anyhow::bail!("--{kind} {}: not a file", path.display());
                }
                total += m.len();
            }
            let bar = if quiet {
                ProgressBar::hidden()
            } else {
                ProgressBar::new(total)
            };
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:8} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
                )
                .expect("valid template"),
            );
            for (kind, path) in &files {
                bar.set_message(kind.to_string());
                let file = tokio::fs::File::open(path)
                    .await
                    .with_context(|| format!("cannot open {}", path.display()))?;
                let b2 = bar.clone();
                let stream = file_chunks(file).inspect(move |chunk| {
                    if let Ok(c) = chunk {
                        b2.inc(c.len() as u64);
                    }
                });
                c.upload(
                    &format!("/apis/rackboot/v1/images/{name}/{kind}"),
                    reqwest::Body::wrap_stream(stream),
                )
                .await?;
            }
            bar.finish_and_clear();
            let img: Value = c
                .json(
                    Method::POST,
                    &format!("/apis/rackboot/v1/images/{name}"),
                    Some(&json!({ "params": params })),
                )
                .await?;
            show(format, &img, |img| {
                format!(
                    "{}\nimage {name}: manifest {}",
                    artifacts_table(img),
                    field(img, "manifest")
                )
            });
            Ok(())
        }
        ImagesCommand::List => {
            let v: Value = c.get("/apis/rackboot/v1/images").await?;
            show(format, &v, |v| {
                let rows = as_array(&v["images"])
                    .iter()
                    .map(|i| {
                        let kinds: Vec<String> = as_array(&i["artifacts"])
                            .iter()
                            .map(|a| field(a, "kind"))
                            .collect();
                        let size: u64 = as_array(&i["artifacts"])
                            .iter()
                            .filter_map(|a| a["size"].as_u64())
                            .sum();
                        vec![
                            field(i, "name"),
                            field(i, "manifest"),
                            kinds.join(","),
                            size.to_string(),
                        ]
                    })
                    .collect();
                table(&["IMAGE", "MANIFEST", "ARTIFACTS", "BYTES"], rows)
            });
            Ok(())
        }
        ImagesCommand::Delete { name } => {
            let v: Value = c
                .json(
                    Method::DELETE,
                    &format!("/apis/rackboot/v1/images/{name}"),
                    None,
                )
                .await?;
            println!("deleted image {name} ({} objects)", v["deleted"]);
            Ok(())
        }
    }
}

fn artifacts_table(img: &Value) -> String {
    let rows = as_array(&img["artifacts"])
        .iter()
        .map(|a| {
            vec![
                field(a, "kind"),
                field(a, "path"),
                field(a, "size"),
                field(a, "etag"),
            ]
        })
        .collect();
    table(&["ARTIFACT", "PATH", "BYTES", "ETAG"], rows)
}

/// A file as a stream of chunks.
fn file_chunks(
    file: tokio::fs::File,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
    use tokio::io::AsyncReadExt;
    futures::stream::unfold(file, |mut f| async move {
        let mut buf = vec![0u8; 1 << 20];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    })
}
