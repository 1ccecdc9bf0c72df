package dev.halfbisect.trt.worker;

import dev.halfbisect.trt.protocol.Request;
import dev.halfbisect.trt.protocol.Response;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;

/**
 * Entry point of the TensorRT worker process. Reads framed {@link Request}s from stdin and writes
 * one framed {@link Response} each to stdout; everything else (Java prints, logs) goes to stderr,
 * which the parent forwards to SLF4J. TensorRT classes load on the first probe or build, inside
 * {@link TrtService}; a missing library becomes an UNAVAILABLE answer, not a crash. The worker
 * exits when stdin ends (the parent died) or on a shutdown request.
 */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) throws IOException {
    DataOutputStream out =
        new DataOutputStream(
            new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16));
    System.setOut(
        new PrintStream(new FileOutputStream(FileDescriptor.err), true)); // keep stdout for frames
    DataInputStream in = new DataInputStream(new BufferedInputStream(System.in, 1 << 16));
    RequestHandler handler = new RequestHandler();
    while (true) {
      Request req;
      try {
        req = Request.read(in);
      } catch (EOFException e) {
        WorkerLog.info("parent closed the connection; exiting");
        break;
      }
      if (req instanceof Request.Shutdown) {
        Response.write(out, new Response.Ok("bye"));
        break;
      }
      Response.write(out, handler.handle(req));
    }
    out.flush();
    System.exit(0); // do not wait for TensorRT's threads
  }
}
