package org.jv2v.model;

/** Sockets x cores per socket x threads per core, as the source declares it. */
public record CpuTopology(int sockets, int coresPerSocket, int threadsPerCore) {
    public CpuTopology {
        if (sockets < 1 || coresPerSocket < 1 || threadsPerCore < 1) {
            throw new IllegalArgumentException("CPU topology must be positive: " + sockets + "/"
                    + coresPerSocket + "/" + threadsPerCore);
        }
    }

    public int vcpus() {
        return sockets * coresPerSocket * threadsPerCore;
    }
}
