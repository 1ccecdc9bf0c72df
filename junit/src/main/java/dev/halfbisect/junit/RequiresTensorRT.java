package dev.halfbisect.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the annotated test class or method only where the TensorRT backend ({@code trt}) is on the
 * class path and reports itself available (GPU, driver and libraries present); elsewhere the test
 * is skipped with the backend's reason.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ExtendWith(TensorRtCondition.class)
public @interface RequiresTensorRT {}
