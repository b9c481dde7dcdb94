package dev.ikd.core.model;

import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** One named piece of a network: a pure function of its parameters and its input. */
public interface Stage {

    String name();

    /** Parameter name (prefixed with the stage name) to its shape and initial scale. */
    Map<String, ParamDef> parameters();

    NDArray apply(Params params, NDArray input);

    /** How a parameter starts: uniform in [-scale, scale] (0 = zeros). */
    record ParamDef(Shape shape, double scale) {
        static ParamDef glorot(long fanIn, long fanOut, long... shape) {
            return new ParamDef(new Shape(shape), Math.sqrt(6.0 / (fanIn + fanOut)));
        }

        static ParamDef zeros(long... shape) {
            return new ParamDef(new Shape(shape), 0);
        }
    }
}
