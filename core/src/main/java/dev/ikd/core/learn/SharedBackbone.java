package dev.ikd.core.learn;

import ai.djl.ndarray.NDManager;
import dev.ikd.core.model.Network;

/**
 * The frozen backbone many students' teachers share (modes frozen, ikd-adapter, pesf): its logits
 * and penultimate features for training sample ids. Served from a {@link FeatureCache}, or by
 * {@link MicroBatcher}, which runs requests that arrive close together as one forward.
 */
public interface SharedBackbone {

    /** The backbone's logits (B x C) and features (B x F) for training ids, as arrays of {@code out}. */
    Network.Forward forward(int[] ids, NDManager out);
}
