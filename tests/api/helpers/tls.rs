//! `TestCa`: a throw-away certificate authority and a server certificate
//! for `localhost` and 127.0.0.1 it signed, made with the `openssl` CLI.

use std::path::PathBuf;
use std::process::Command;

use tempfile::TempDir;

/// A CA and one server certificate in a temporary directory.
pub struct TestCa {
    dir: TempDir,
}

impl TestCa {
    /// Makes a fresh CA (`ca.crt`) and a server key and certificate
    /// (`server.key`, `server.crt`) it signed.
    pub fn generate() -> TestCa {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
        // clientAuth too: Redis Cluster nodes present their certificate to
        // each other on the cluster bus.
        std::fs::write(
            dir.path().join("server.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .expect("write server.ext");
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        openssl(
            &[
                &["req", "-x509", "-nodes", "-days", "2"],
                &ec[..],
                &["-keyout", &path("ca.key"), "-out", &path("ca.crt")],
                &["-subj", "/CN=Detour test CA"],
                &["-addext", "basicConstraints=critical,CA:TRUE"],
                &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req", "-nodes"],
                &ec[..],
                &["-keyout", &path("server.key"), "-out", &path("server.csr")],
                &["-subj", "/CN=localhost"],
            ]
            .concat(),
        );
        openssl(&[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            &path("server.csr"),
            "-CA",
            &path("ca.crt"),
            "-CAkey",
            &path("ca.key"),
            "-CAcreateserial",
            "-extfile",
            &path("server.ext"),
            "-out",
            &path("server.crt"),
        ]);
        TestCa { dir }
    }

    /// The CA certificate (PEM): what clients must trust.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The server certificate (PEM).
    pub fn server_cert(&self) -> PathBuf {
        self.dir.path().join("server.crt")
    }

    /// The server's private key (PEM).
    pub fn server_key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }
}

fn openssl(args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl (is it installed?)");
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
