import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * DynamoDB Local bound to 127.0.0.1 only (bin/support/dynamodb-local.ts compiles and runs it).
 *
 * DynamoDB Local 1.25 has no host option: its DynamoDBProxyServer builds `new Server(port)` (Jetty
 * 9.4), a ServerConnector with no host, which binds every interface, and neither its command line
 * nor a system property changes that. This launcher builds the server exactly as the jar's own main
 * does (ServerRunner.createServerFromCommandLineArgs, same arguments), sets the connector's host to
 * the loopback address before the server starts, and starts it.
 */
public final class DynamoDbLocalLoopback {
  private DynamoDbLocalLoopback() {}

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    proxy.start();
  }
}
