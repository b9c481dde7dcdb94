package dev.ikd.learning.blocks;

import dev.ikd.proto.kafka.KafkaAccess;
import dev.ikd.proto.sign.RunManifest;
import dev.ikd.proto.sign.Signatures;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ikd.core.model.ModelSpec;
import dev.ikd.core.model.Network;
import dev.ikd.learning.data.RunData;
import dev.ikd.core.model.Params;
import dev.ikd.learning.params.ParamsCodec;
import dev.ikd.proto.codec.TensorCodec;
import dev.ikd.proto.envelope.Decoded;
import dev.ikd.proto.envelope.Envelopes;
import dev.ikd.proto.kafka.KafkaClients;
import dev.ikd.proto.kafka.LogReadException;
import dev.ikd.proto.topics.Topics;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.NamedTensor;
import dev.ikd.proto.v1.TeacherBlock;
import dev.ikd.runtime.RunFailedException;

/**
 * The teacher's stages as block snapshots on the compacted {@code ikd.teacher-blocks} (docs/architecture.md §3):
 * one record per stage (keyed run/teacher/stage, so compaction keeps the latest version of each),
 * which IAKD students fetch to swap the teacher's frozen stages into their own forward passes. A
 * student that starts late still finds every stage, because compaction keeps the newest record of
 * each key.
 */
public final class TeacherBlocks {

    /** The stage name of the one block a teacher without parameters sends: it only names the model. */
    public static final String MODEL_ONLY = "model";

    private TeacherBlocks() {
    }

    /**
     * One envelope per stage of {@code phi} (parameters named {@code stage.param}), at {@code version};
     * each names the teacher's model {@code spec}, so the teacher can be rebuilt from the log alone.
     */
    public static List<Envelope> encode(String runId, String teacherId, ModelSpec spec, Params phi, long version, Clock clock) {
        Map<String, TeacherBlock.Builder> blocks = new TreeMap<>();
        for (var p : phi.asMap().entrySet()) {
            String stage = stageOf(p.getKey());
            blocks.computeIfAbsent(stage, s -> TeacherBlock.newBuilder().setTeacherId(teacherId).setStage(s).setVersion(version)
                    .setModel(RunData.model(spec)))
                .addParameters(NamedTensor.newBuilder().setName(p.getKey()).setTensor(ParamsCodec.float32(p.getValue())));
        }
        if (blocks.isEmpty()) {
            // A teacher ikd holds no parameters of (a TorchScript module): one block that names its model.
            blocks.put(MODEL_ONLY, TeacherBlock.newBuilder().setTeacherId(teacherId).setStage(MODEL_ONLY).setVersion(version)
                .setModel(RunData.model(spec)));
        }
        List<Envelope> out = new ArrayList<>();
        blocks.values().forEach(b -> out.add(Envelopes.header(runId, "", 0, Kind.TEACHER_BLOCK, teacherId, clock)
            .setTeacherBlock(b).build()));
        return out;
    }

    /**
     * Reads the run's teacher blocks from the beginning of the topic until every stage of
     * {@code teacherNet} is there (the newest version of each), and assembles them as parameters of
     * that network; gives up after {@code timeout} naming the stages still missing. In a run that
     * signs ({@code manifest} not null) a block not signed by the teacher is passed over.
     */
    public static Params fetch(KafkaAccess kafka, String runId, String teacherId, Network teacherNet, DataType type,
                               Duration timeout, NDManager manager) {
        return fetch(kafka, null, runId, teacherId, teacherNet, type, timeout, manager);
    }

    public static Params fetch(KafkaAccess kafka, RunManifest manifest, String runId, String teacherId, Network teacherNet,
                               DataType type, Duration timeout, NDManager manager) {
        TreeSet<String> expected = new TreeSet<>();
        teacherNet.stages().forEach(stage -> stage.parameters().keySet().forEach(n -> expected.add(stageOf(n))));
        Map<String, TeacherBlock> latest = new TreeMap<>();
        try {
            KafkaClients.readFromStart(kafka, List.of(Topics.TEACHER_BLOCKS), "ikd-blocks", timeout, r -> {
                if (r.value() instanceof Decoded.Valid v && v.envelope().getKind() == Kind.TEACHER_BLOCK
                    && runId.equals(v.envelope().getRunId()) && teacherId.equals(v.envelope().getTeacherBlock().getTeacherId())
                    && Topics.misplaced(r.topic(), r.key(), v.envelope()) == null
                    && (manifest == null || Signatures.problem(manifest, v.envelope(), v.signed()) == null)) {
                    TeacherBlock b = v.envelope().getTeacherBlock();
                    TeacherBlock held = latest.get(b.getStage());
                    if (held == null || b.getVersion() >= held.getVersion()) {
                        latest.put(b.getStage(), b);
                    }
                }
            }, () -> latest.keySet().containsAll(expected));
        } catch (LogReadException e) {
            // Handled below: what is missing, and the likely reason, say more than the deadline alone.
        }
        if (!latest.keySet().containsAll(expected)) {
            TreeSet<String> missing = new TreeSet<>(expected);
            missing.removeAll(latest.keySet());
            throw new RunFailedException("no teacher blocks " + missing + " of " + teacherId + " in run " + runId + " on "
                + Topics.TEACHER_BLOCKS + " after " + timeout.toSeconds() + " s: is the teacher running?");
        }
        return assemble(runId, latest.values(), teacherNet, type, manager);
    }

    /**
     * The teacher's parameters from its blocks (one per stage, as {@link #encode} wrote them), in the
     * layout of {@code teacherNet}; a block that does not fit that network, or a stage missing, is
     * refused with what is wrong.
     */
    public static Params assemble(String runId, java.util.Collection<TeacherBlock> blocks, Network teacherNet, DataType type,
                                  NDManager manager) {
        Params layout = teacherNet.init(0, type, manager);
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        for (TeacherBlock b : blocks) {
            for (NamedTensor t : b.getParametersList()) {
                NDArray expectedArray = layout.asMap().get(t.getName());
                long[] shape = TensorCodec.shape(t.getTensor());
                if (expectedArray == null || !expectedArray.getShape().equals(new Shape(shape))) {
                    layout.close();
                    throw new RunFailedException("teacher block " + b.getStage() + " of run " + runId + " has parameter "
                        + t.getName() + " " + new Shape(shape) + ", but the teacher model " + teacherNet.spec() + " has "
                        + (expectedArray == null ? "no such parameter" : expectedArray.getShape()));
                }
                arrays.put(t.getName(), ParamsCodec.array(t.getTensor(), type, manager));
            }
        }
        List<String> names = layout.names();
        layout.close();
        Map<String, NDArray> ordered = new LinkedHashMap<>();
        for (String n : names) {
            NDArray a = arrays.get(n);
            if (a == null) {
                throw new RunFailedException("the teacher blocks of run " + runId + " lack parameter " + n + " of the teacher model "
                    + teacherNet.spec());
            }
            ordered.put(n, a);
        }
        return new Params(ordered);
    }

    private static String stageOf(String parameter) {
        int dot = parameter.indexOf('.');
        return dot < 0 ? parameter : parameter.substring(0, dot);
    }
}
