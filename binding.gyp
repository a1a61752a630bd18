{
  # husai's native engine: N-API addon over OpenBLAS (when found) plus C++/OpenMP kernels.
  # Built by `node native/build.mjs` (npm's install script); output build/Release/husai_native.node.
  # BLAS detection lives in native/blas-config.mjs (HUSAI_NO_BLAS=1 forces the built-in GEMM).
  # No -march=native: the binary must run on any x86-64. Hot kernels carry
  # target_clones(x86-64-v4, x86-64-v3, default) and are picked at load time (native/src/common.h).
  "targets": [
    {
      "target_name": "husai_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/kernels.cc",
        "native/src/topk.cc",
        "native/src/sparse.cc",
        "native/src/gemm.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "<!@(node native/blas-config.mjs defines)"
      ],
      "cflags_cc": [
        "-O3",
        # Neither flag changes any result: no errno from sqrt, and no FP-exception side effects
        # to preserve, which lets masked/select loops vectorise on every ISA.
        "-fno-math-errno",
        "-fno-trapping-math",
        # No fused multiply-add unless written explicitly: every CPU (and every target clone)
        # then rounds identically, and many kernels match the TypeScript reference bit for bit.
        "-ffp-contract=off",
        "<!@(node native/blas-config.mjs cflags)"
      ],
      "libraries": [
        "<!@(node native/blas-config.mjs libs)"
      ],
      "conditions": [
        ["OS=='linux'", {
          "cflags_cc": ["-fopenmp"],
          "ldflags": ["-fopenmp"]
        }]
      ]
    }
  ]
}
