package dev.halfbisect.trt.worker;

import dev.halfbisect.trt.protocol.Request;
import dev.halfbisect.trt.protocol.Response;
import dev.halfbisect.trt.protocol.Response.FailureKind;

/**
 * Dispatches requests to {@link TrtService}, which is created (and TensorRT loaded) on first use.
 * Linkage errors while loading natives are translated into UNAVAILABLE answers naming what is
 * missing; this class itself references no bytedeco type, so it loads on any machine.
 */
final class RequestHandler {
  private Object service; // TrtService, typed Object so this class never links bytedeco
  private String unavailable;

  Response handle(Request req) {
    try {
      TrtService s = service();
      if (s == null) {
        return new Response.Failure(FailureKind.UNAVAILABLE, unavailable);
      }
      if (req instanceof Request.Probe) {
        return new Response.Ok(s.describe());
      }
      if (req instanceof Request.Build b) {
        return s.build(b);
      }
      if (req instanceof Request.Run r) {
        return s.run(r);
      }
      if (req instanceof Request.Time t) {
        return s.time(t);
      }
      if (req instanceof Request.CloseSession c) {
        s.close(c.sessionId());
        return new Response.Ok("closed " + c.sessionId());
      }
      return new Response.Failure(FailureKind.BAD_ARGUMENT, "unexpected request " + req);
    } catch (IllegalArgumentException e) {
      return new Response.Failure(FailureKind.BAD_ARGUMENT, e.getMessage());
    } catch (RuntimeException e) {
      WorkerLog.error("request failed: " + e);
      FailureKind k =
          req instanceof Request.Run || req instanceof Request.Time
              ? FailureKind.RUN_FAILED
              : FailureKind.BUILD_FAILED;
      return new Response.Failure(k, e.toString());
    }
  }

  private TrtService service() {
    if (service == null && unavailable == null) {
      try {
        service = TrtService.start();
      } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
        unavailable = NativeProblems.explain(e);
        WorkerLog.warn(unavailable);
      } catch (GpuUnavailableException e) {
        unavailable = e.getMessage();
        WorkerLog.warn(unavailable);
      }
    }
    return (TrtService) service;
  }
}
