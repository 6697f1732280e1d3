//! A 3-master Redis Cluster on free loopback ports, made the way an
//! operator would: `redis-server --cluster-enabled yes` three times and
//! `redis-cli --cluster create`.

use std::process::Command;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::redis::TestRedis;
use super::tls::TestCa;

pub struct TestCluster {
    pub nodes: Vec<TestRedis>,
    _dir: TempDir,
}

impl TestCluster {
    pub fn start() -> TestCluster {
        Self::start_on(None)
    }

    /// A cluster that speaks only TLS, to clients and between nodes, with
    /// the server certificate of `ca`.
    pub fn start_tls(ca: &TestCa) -> TestCluster {
        Self::start_on(Some(ca))
    }

    fn start_on(tls: Option<&TestCa>) -> TestCluster {
        let dir = tempfile::tempdir().expect("cluster dir");
        let nodes: Vec<TestRedis> = (0..3)
            .map(|i| {
                let node_dir = dir.path().join(format!("node{i}"));
                std::fs::create_dir_all(&node_dir).expect("node dir");
                let node_dir = node_dir.to_string_lossy().into_owned();
                let options = [
                    "--appendonly",
                    "no",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-node-timeout",
                    "5000",
                    "--dir",
                    &node_dir,
                ];
                match tls {
                    Some(ca) => TestRedis::start_tls_with(
                        ca,
                        &[&options[..], &["--tls-cluster", "yes"]].concat(),
                    ),
                    None => TestRedis::start_with(&options),
                }
            })
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let output = Command::new("redis-cli")
            .args(nodes[0].tls_cli_args())
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli --cluster create runs");
        assert!(
            output.status.success(),
            "cluster create failed: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        let cluster = TestCluster { nodes, _dir: dir };
        cluster.wait_until_ok();
        cluster
    }

    fn wait_until_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self
                .nodes
                .iter()
                .all(|n| n.cli(&["cluster", "info"]).contains("cluster_state:ok"))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the cluster never reached cluster_state:ok");
    }

    /// The seed list for `store.redis_url` with `redis_cluster = true`.
    pub fn seeds(&self) -> String {
        self.nodes
            .iter()
            .map(TestRedis::url)
            .collect::<Vec<_>>()
            .join(",")
    }
}
