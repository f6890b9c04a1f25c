package org.jv2v.fs.xfs;

/**
 * The state of an XFS journal, found the way xfs_repair and {@code xfs_logprint -t} find it: the
 * head is where the next log write would go (found from the cycle numbers stamped in every 512-byte
 * log block), the tail comes from the last log record before the head, and a clean unmount leaves
 * an unmount record right before the head, which moves the tail onto the head.
 *
 * @param clean      true when no transaction waits for replay (head == tail); false also when the
 *                   state cannot be known (an external log, a log that makes no sense)
 * @param headBlock  the head, in 512-byte blocks from the start of the log (-1 if unknown)
 * @param tailBlock  the tail, likewise
 * @param detail     a sentence for users: why the log counts as dirty or unknown
 */
public record XfsLogState(boolean clean, long headBlock, long tailBlock, String detail) {}
