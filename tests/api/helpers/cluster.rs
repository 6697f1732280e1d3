//! A 3-master Redis Cluster on free loopback ports, made the way an
//! operator would: `redis-server --cluster-enabled yes` three times and
//! `redis-cli --cluster create`.

use std::process::Command;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::redis::TestRedis;

pub struct TestCluster {
    pub nodes: Vec<TestRedis>,
    _dir: TempDir,
}

impl TestCluster {
    pub fn start() -> TestCluster {
        let dir = tempfile::tempdir().expect("cluster dir");
        let nodes: Vec<TestRedis> = (0..3)
            .map(|i| {
                let node_dir = dir.path().join(format!("node{i}"));
                std::fs::create_dir_all(&node_dir).expect("node dir");
                let node_dir = node_dir.to_string_lossy().into_owned();
                TestRedis::start_with(&[
                    "--appendonly",
                    "no",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-node-timeout",
                    "5000",
                    "--dir",
                    &node_dir,
                ])
            })
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let output = Command::new("redis-cli")
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
