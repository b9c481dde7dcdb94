package dev.ikd.proto.envelope;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.ikd.proto.codec.MalformedMessageException;
import dev.ikd.proto.v1.Envelope;
import dev.ikd.proto.v1.Kind;
import dev.ikd.proto.v1.Part;

/**
 * Envelopes too large for one record (docs/architecture.md §4): a language model's soft targets over
 * a large vocabulary pass a topic's {@code max.message.bytes} (Kafka's default is 1 MB). The sender
 * cuts the whole envelope's bytes into parts that each fit, sent in order as envelopes of kind PART
 * under the whole's run, student, step and teacher; the receiver's {@link Assembler} joins them once
 * all are in, checks the SHA-256 the parts carry, and hands on the whole envelope, which is then
 * validated and applied as if it had come in one record.
 */
public final class Parts {

    /** What a part's envelope and its Kafka record add around its data, at most: ids, keys, hash, headers, the batch. */
    public static final int OVERHEAD = 2048;
    /** What a Kafka record adds around an envelope, at most: the batch's and the record's headers, the key, a signature. */
    public static final int RECORD_OVERHEAD = 512;

    private Parts() {
    }

    /** The records {@code whole} travels in: itself when it fits in {@code maxRecordBytes}, else parts that each fit. */
    public static List<Envelope> split(Envelope whole, int maxRecordBytes) {
        if (maxRecordBytes <= 2 * OVERHEAD) {
            throw new IllegalArgumentException("a record limit of " + maxRecordBytes + " bytes leaves no room for a part (at least "
                + (2 * OVERHEAD + 1) + ")");
        }
        if (fits(whole, maxRecordBytes)) {
            return List.of(whole);
        }
        byte[] bytes = whole.toByteArray();
        int size = maxRecordBytes - OVERHEAD;
        int count = (bytes.length + size - 1) / size;
        ByteString sha = ByteString.copyFrom(sha256(bytes));
        List<Envelope> parts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Part part = Part.newBuilder().setIndex(i).setCount(count).setWholeSha256(sha).setWholeKey(whole.getIdempotencyKey())
                .setWholeKind(whole.getKind())
                .setData(ByteString.copyFrom(bytes, i * size, Math.min(size, bytes.length - i * size))).build();
            parts.add(whole.toBuilder().clearPayload().clearMeasured().setKind(Kind.PART).setPart(part)
                .setIdempotencyKey(Envelopes.idempotencyKey(whole.getRunId(), whole.getStudentId(), whole.getStep(), Kind.PART,
                    whole.getTeacherId())).build());
        }
        return parts;
    }

    /**
     * Whether {@code e} travels as one record under {@code maxRecordBytes}. A dead letter of a part
     * does: a part's data leaves {@link #OVERHEAD} bytes of room, more than a dead letter adds.
     */
    public static boolean fits(Envelope e, int maxRecordBytes) {
        return e.getSerializedSize() + RECORD_OVERHEAD <= maxRecordBytes;
    }

    /**
     * Joins parts into their whole envelopes, any order, each whole's parts under its key. A part
     * sent again (Kafka delivers at least once) is taken once; one that cannot belong is refused with
     * the reason, for the dead-letter topic. At most {@code maxPendingBytes} wait at a time.
     */
    public static final class Assembler {

        private final long maxPendingBytes;
        private final Map<String, ByteString[]> pending = new LinkedHashMap<>();
        private final Map<String, ByteString> hashes = new LinkedHashMap<>();
        private long pendingBytes;

        public Assembler(long maxPendingBytes) {
            this.maxPendingBytes = maxPendingBytes;
        }

        /** The whole envelope once {@code e}, a PART, was its last missing part; empty until then. */
        public Optional<Envelope> accept(Envelope e) {
            Part p = e.getPart();
            String key = p.getWholeKey();
            String where = "part " + p.getIndex() + " of " + p.getCount() + " of " + key;
            if (e.getKind() != Kind.PART || key.isEmpty() || p.getCount() < 1 || p.getIndex() < 0 || p.getIndex() >= p.getCount()
                || p.getWholeSha256().size() != 32) {
                throw new MalformedMessageException(where + ": not a part (a kind of PART, a key, 0 <= index < count and a "
                    + "SHA-256 are needed)");
            }
            ByteString[] parts = pending.get(key);
            if (parts == null) {
                parts = new ByteString[p.getCount()];
            } else if (parts.length != p.getCount() || !hashes.get(key).equals(p.getWholeSha256())) {
                throw new MalformedMessageException(where + ": its count or hash differs from the parts already in (" + parts.length
                    + " parts)");
            }
            ByteString already = parts[p.getIndex()];
            if (already != null) {
                if (!already.equals(p.getData())) {
                    throw new MalformedMessageException(where + ": sent again with other bytes");
                }
                return Optional.empty();
            }
            if (pendingBytes + p.getData().size() > maxPendingBytes) {
                drop(key);
                throw new MalformedMessageException(where + ": more than " + maxPendingBytes + " bytes of parts would wait at once; "
                    + "the parts of " + key + " are given up");
            }
            parts[p.getIndex()] = p.getData();
            pending.put(key, parts);
            hashes.put(key, p.getWholeSha256());
            pendingBytes += p.getData().size();
            if (Arrays.stream(parts).anyMatch(x -> x == null)) {
                return Optional.empty();
            }
            pending.remove(key);
            hashes.remove(key);
            ByteString joined = ByteString.copyFrom(Arrays.asList(parts));
            pendingBytes -= joined.size();
            byte[] bytes = joined.toByteArray();
            if (!Arrays.equals(sha256(bytes), p.getWholeSha256().toByteArray())) {
                throw new MalformedMessageException(key + ": its " + parts.length + " parts joined do not have the SHA-256 they carry");
            }
            try {
                Envelope whole = Envelope.parseFrom(bytes);
                if (!whole.getIdempotencyKey().equals(key) || whole.getKind() != p.getWholeKind() || whole.getKind() == Kind.PART
                    || !whole.getRunId().equals(e.getRunId()) || !whole.getStudentId().equals(e.getStudentId())
                    || whole.getStep() != e.getStep() || !whole.getTeacherId().equals(e.getTeacherId())) {
                    throw new MalformedMessageException(key + ": its parts join into " + whole.getKind() + " " + whole.getIdempotencyKey()
                        + ", not the envelope their header names");
                }
                try {
                    Envelopes.validate(whole);
                } catch (MalformedMessageException bad) {
                    throw new MalformedMessageException(key + ": its parts join into an envelope that is not valid: " + bad.getMessage());
                }
                return Optional.of(whole);
            } catch (InvalidProtocolBufferException ex) {
                throw new MalformedMessageException(key + ": its parts do not join into an envelope: " + ex.getMessage());
            }
        }

        /** The SHA-256 of the whole {@code key} whose parts wait, or null when none do. */
        public ByteString waitingFor(String key) {
            return hashes.get(key);
        }

        /**
         * Whether {@code part} belongs to a newer send of an envelope whose parts of an older send wait
         * (a sender that stopped half-way sends it again, stamped anew): those are then given up.
         */
        public boolean replacedBy(Envelope part) {
            ByteString waiting = hashes.get(part.getPart().getWholeKey());
            if (waiting == null || waiting.equals(part.getPart().getWholeSha256())) {
                return false;
            }
            drop(part.getPart().getWholeKey());
            return true;
        }

        /** Gives up the parts of {@code key} that wait. */
        public void drop(String key) {
            ByteString[] parts = pending.remove(key);
            hashes.remove(key);
            if (parts != null) {
                pendingBytes -= Arrays.stream(parts).filter(x -> x != null).mapToLong(ByteString::size).sum();
            }
        }

        /** Wholes with parts still missing. */
        public int waiting() {
            return pending.size();
        }
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
