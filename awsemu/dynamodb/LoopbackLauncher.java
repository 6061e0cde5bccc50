/*
 * Runs DynamoDB Local for awsemu, with two guarantees its own main lacks.
 *
 * 1. It listens on 127.0.0.1 only. DynamoDB Local has no bind option: its
 *    Jetty server listens on every interface, where anyone who reaches the
 *    machine could read and write every account's tables without going
 *    through awsemu. This launcher builds the server the way DynamoDB
 *    Local's own main does (ServerRunner.createServerFromCommandLineArgs,
 *    same arguments), sets the host of each of the Jetty server's
 *    connectors to 127.0.0.1 before starting it, and exits if any connector
 *    then is not a loopback one: it never listens anywhere else.
 *
 * 2. It ends with the awsemu daemon that started it. The daemon holds the
 *    other end of its standard input and never writes to it; when the
 *    daemon is gone, however it died (kill -9 included), the pipe closes,
 *    reading it gives end of file, and the JVM halts.
 *
 * It uses DynamoDB Local through reflection only, so it compiles without
 * it. It looks for the server runner of DynamoDB Local 3.x
 * (software.amazon...) and of earlier versions (com.amazonaws...), which
 * have the same method; 3.x is the one tested. Whatever it cannot bind to
 * loopback, it does not start. awsemu compiles it once into its cache
 * directory and runs it with DynamoDB Local's jar on the class path, the
 * arguments being DynamoDB Local's own (see awsemu/dynamodb/supervisor.py).
 */

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

public final class LoopbackLauncher {
    static final String HOST = "127.0.0.1";
    static final String JETTY_SERVER = "org.eclipse.jetty.server.Server";
    static final String[] RUNNERS = {
        "software.amazon.dynamodb.services.local.main.ServerRunner",
        "com.amazonaws.services.dynamodbv2.local.main.ServerRunner",
    };

    public static void main(String[] args) throws Exception {
        endWithStandardInput();
        try {
            Object proxyServer = runner()
                    .getMethod("createServerFromCommandLineArgs", String[].class)
                    .invoke(null, (Object) args);
            Object jetty = jettyServer(proxyServer);
            Object[] connectors = (Object[]) call(jetty, "getConnectors");
            if (connectors.length == 0) {
                fail("DynamoDB Local's Jetty server has no connector to bind to " + HOST);
            }
            for (Object connector : connectors) {
                connector.getClass().getMethod("setHost", String.class).invoke(connector, HOST);
            }
            call(proxyServer, "start");
            for (Object connector : connectors) {
                if (!HOST.equals(call(connector, "getHost")) || !(Boolean) call(connector, "isOpen")) {
                    fail("DynamoDB Local did not start listening on " + HOST);
                }
            }
        } catch (InvocationTargetException e) {
            e.getCause().printStackTrace();
            fail("DynamoDB Local could not start: " + e.getCause());
        } catch (ReflectiveOperationException | ClassCastException e) {
            e.printStackTrace();
            fail("This DynamoDB Local cannot be bound to " + HOST + ": " + e);
        }
    }

    /** A daemon thread that halts the JVM once standard input reaches its end. */
    static void endWithStandardInput() {
        Thread watcher = new Thread(() -> {
            byte[] ignored = new byte[256];
            try {
                while (System.in.read(ignored) >= 0) {
                    // Nothing is ever sent; whatever comes is not a reason to stop.
                }
            } catch (IOException e) {
                // A broken pipe ends the daemon's hold just as end of file does.
            }
            System.err.println("awsemu's daemon is gone (standard input closed): exiting");
            Runtime.getRuntime().halt(0);
        }, "awsemu-stdin-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    static Class<?> runner() throws ClassNotFoundException {
        for (String name : RUNNERS) {
            try {
                return Class.forName(name);
            } catch (ClassNotFoundException e) {
                // Another DynamoDB Local version: try the next name.
            }
        }
        throw new ClassNotFoundException(String.join(" or ", RUNNERS));
    }

    /** The Jetty server inside DynamoDB Local's DynamoDBProxyServer, found by its type. */
    static Object jettyServer(Object proxyServer) throws ReflectiveOperationException {
        for (Class<?> type = proxyServer.getClass(); type != null; type = type.getSuperclass()) {
            for (Field field : type.getDeclaredFields()) {
                if (field.getType().getName().equals(JETTY_SERVER)) {
                    field.setAccessible(true);
                    return field.get(proxyServer);
                }
            }
        }
        throw new NoSuchFieldException(
                proxyServer.getClass().getName() + " holds no " + JETTY_SERVER);
    }

    static Object call(Object target, String name) throws ReflectiveOperationException {
        Method method = target.getClass().getMethod(name);
        return method.invoke(target);
    }

    static void fail(String message) {
        System.err.println(message);
        Runtime.getRuntime().halt(1);
    }
}
