package dev.halfbisect.trt;

import dev.halfbisect.core.backend.BackendException;
import dev.halfbisect.core.plan.PrecisionPlan;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Path;

/**
 * The FP16 rewrite for {@code fp16-strong}: onnx-surgery's {@code Fp16Conversion.apply(model, plan)}
 * turns the model into an FP16 graph with Casts at the FP16/FP32 borders of the plan, which
 * TensorRT then builds strongly typed. Reached reflectively so that this module builds against
 * the onnx-surgery API as it lands (see docs/api.md), and fails with a clear message before.
 */
final class StrongTypingRewrite {
  private StrongTypingRewrite() {}

  static byte[] apply(String modelName, byte[] bytes, Path baseDir, PrecisionPlan plan) throws BackendException {
    try {
      Class<?> modelClass = Class.forName("dev.halfbisect.onnx.OnnxModel");
      Class<?> conversion = Class.forName("dev.halfbisect.onnx.Fp16Conversion");
      Object model = modelClass.getMethod("parse", byte[].class, Path.class, String.class)
          .invoke(null, bytes, baseDir, modelName);
      Object result = conversion.getMethod("apply", modelClass, PrecisionPlan.class).invoke(null, model, plan);
      Method modelOf = result.getClass().getMethod("model");
      modelOf.setAccessible(true);
      Object converted = modelOf.invoke(result);
      return (byte[]) modelClass.getMethod("toBytes").invoke(converted);
    } catch (ClassNotFoundException | NoSuchMethodException e) {
      throw new BackendException("trt:fp16-strong needs onnx-surgery's Fp16Conversion (dev.halfbisect.onnx."
          + "Fp16Conversion.apply(OnnxModel, PrecisionPlan)), which this class path lacks: " + e.getMessage(), e);
    } catch (InvocationTargetException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new BackendException("FP16 rewrite of " + modelName + " failed: " + c.getMessage(), c);
    } catch (IllegalAccessException e) {
      throw new BackendException("FP16 rewrite of " + modelName + " is not accessible: " + e.getMessage(), e);
    }
  }
}
