# Clustered float32 data for hnsw-compare: 200 000 base rows and 1 000 queries, d = 128,
# 1 000 Gaussian centres (sd 2) with unit Gaussian noise; exact L2 top-10 by FAISS IndexFlatL2.
import os, numpy as np, faiss
D = os.environ.get('HNSW_COMPARE_DATA', '/tmp/hnsw-compare') + '/'
rng = np.random.default_rng(1234)
n, d, nq, nc = 200_000, 128, 1000, 1000
centres = rng.standard_normal((nc, d)).astype(np.float32) * 2.0
lab = rng.integers(0, nc, n + nq)
x = (centres[lab] + rng.standard_normal((n + nq, d)).astype(np.float32)).astype(np.float32)
base, q = x[:n].copy(), x[n:].copy()
base.tofile(D + 'base.f32'); q.tofile(D + 'query.f32')
idx = faiss.IndexFlatL2(d); idx.add(base)
_, I = idx.search(q, 10)
I.astype(np.int32).tofile(D + 'gt.i32')
print("ok", base.shape, q.shape)
