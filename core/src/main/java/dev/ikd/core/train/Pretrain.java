package dev.ikd.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ikd.core.data.BatchSchedule;
import dev.ikd.core.data.Dataset;
import dev.ikd.core.learn.CourseStep;
import dev.ikd.core.learn.Losses;
import dev.ikd.core.learn.StudentConfig;
import dev.ikd.core.model.Network;
import dev.ikd.core.model.Params;
import dev.ikd.core.model.Swap;

/** Teacher pretraining: plain CE with SGD + momentum on every training label (the course step with α = 0). */
public final class Pretrain {

    private Pretrain() {
    }

    public static Params teacher(Network net, Dataset data, TrainConfig.PretrainConfig c, long seed, DataType type,
                                 NDManager manager, StepListener listener) {
        int[] pool = new int[data.trainSize()];
        java.util.Arrays.setAll(pool, i -> i);
        var schedule = new BatchSchedule(pool, c.batchSize(), seed);
        var config = new StudentConfig(c.learningRate(), c.momentum(), 1.0, 0.0);
        Params theta = net.init(seed, type, manager);
        Params velocity = theta.map((k, v) -> manager.zeros(v.getShape(), v.getDataType()));
        for (long step = 0; step < c.steps(); step++) {
            try (NDManager s = manager.newSubManager()) {
                int[] ids = schedule.batch(step);
                NDArray x = data.trainFeatures(s, ids, type);
                NDArray y = Losses.oneHot(s, data.trainLabels(ids), null, data.classes(), type);
                // The step's intermediates live in s and go with it; only θ' and the velocity are kept.
                CourseStep.Result r = CourseStep.apply(net, theta, velocity, x, y, y, Swap.NONE, config, s);
                theta.close();
                velocity.close();
                theta = r.theta().copy(manager);
                velocity = r.velocity().copy(manager);
                listener.onPretrainStep(step, c.steps(), r.loss());
            }
        }
        velocity.close();
        return theta;
    }
}
