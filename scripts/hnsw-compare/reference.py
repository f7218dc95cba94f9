# hnswlib 0.8.0 and FAISS IndexHNSWFlat on the data of make-data.py, same M / efConstruction /
# build threads as hnsw-compare; searches one thread at a time. Usage: reference.py M efC threads [hnswlib,faiss]
import os, sys, time, numpy as np, hnswlib, faiss
D = os.environ.get('HNSW_COMPARE_DATA', '/tmp/hnsw-compare') + '/'
M, efC, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
which = sys.argv[4] if len(sys.argv) > 4 else "hnswlib,faiss"
d = 128
base = np.fromfile(D + 'base.f32', dtype=np.float32).reshape(-1, d)
q = np.fromfile(D + 'query.f32', dtype=np.float32).reshape(-1, d)
gt = np.fromfile(D + 'gt.i32', dtype=np.int32).reshape(-1, 10)
efs = [10, 16, 32, 64, 128, 256]
def rec(I): return np.mean([len(set(I[i]) & set(gt[i])) / 10 for i in range(len(q))])
if "hnswlib" in which:
    p = hnswlib.Index(space='l2', dim=d); p.init_index(max_elements=len(base), ef_construction=efC, M=M)
    t = time.perf_counter(); c = time.process_time(); p.add_items(base, num_threads=threads); print(f"hnswlib build M={M} efC={efC} threads={threads}: {time.perf_counter()-t:.2f} s wall, {time.process_time()-c:.2f} s cpu", flush=True)
    p.set_ef(10); p.knn_query(q, k=10, num_threads=1)  # warm-up, untimed
    for ef in efs:
        p.set_ef(max(ef, 10))
        t = time.perf_counter(); c = time.thread_time(); I, _ = p.knn_query(q, k=10, num_threads=1); el = time.perf_counter() - t; cl = time.thread_time() - c
        print(f"hnswlib ef={ef:4d} recall@10 {rec(I):.4f} QPS wall {len(q)/el:8.0f} cpu {len(q)/cl:8.0f}", flush=True)
if "faiss" in which:
    faiss.omp_set_num_threads(threads)
    f = faiss.IndexHNSWFlat(d, M); f.hnsw.efConstruction = efC
    t = time.perf_counter(); c = time.process_time(); f.add(base); print(f"faiss build M={M} efC={efC} threads={threads}: {time.perf_counter()-t:.2f} s wall, {time.process_time()-c:.2f} s cpu", flush=True)
    faiss.omp_set_num_threads(1)
    f.hnsw.efSearch = 10; f.search(q, 10)  # warm-up, untimed
    for ef in efs:
        f.hnsw.efSearch = max(ef, 10)
        t = time.perf_counter(); c = time.thread_time(); _, I = f.search(q, 10); el = time.perf_counter() - t; cl = time.thread_time() - c
        print(f"faiss   ef={ef:4d} recall@10 {rec(I):.4f} QPS wall {len(q)/el:8.0f} cpu {len(q)/cl:8.0f}", flush=True)
