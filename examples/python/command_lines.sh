#!/usr/bin/env bash
# Command lines that point OpenRLHF and slime at rewardd. Not run by tests:
# they need the frameworks and GPUs. The URL forms need rewardd's HTTP
# gateway, e.g. rewardd --http_listen=0.0.0.0:8080
# --http_default_rubric_set=healthbench (endpoints: docs/http-gateway.md;
# the default set applies to labels that are bare rubric ids); the function
# forms use the Python adapters in this directory.
exit 0

# --- OpenRLHF, function form (the Python client, gRPC) ---
REWARDD_TARGET=rewardd.ml.svc:50051 REWARDD_RUBRIC_SET=healthbench \
python3 -m openrlhf.cli.train_ppo_ray \
  --pretrain Qwen/Qwen3-8B --prompt_data my/dataset --input_key prompt \
  --label_key rubric --apply_chat_template \
  --remote_rm_url examples/python/openrlhf_reward_func.py \
  --advantage_estimator group_norm --n_samples_per_prompt 8

# --- OpenRLHF, URL form (needs rewardd --http_listen) ---
python3 -m openrlhf.cli.train_ppo_ray ... \
  --label_key rubric --remote_rm_url http://rewardd.ml.svc:8080/v1/openrlhf

# --- slime, custom reward function (the Python client, gRPC) ---
REWARDD_TARGET=rewardd.ml.svc:50051 REWARDD_RUBRIC_SET=healthbench \
python3 train.py ... --label-key rubric \
  --custom-rm-path examples.python.slime_rm.custom_rm
# grouped: --group-rm --custom-rm-path examples.python.slime_rm.group_rm

# --- slime, remote reward model (needs rewardd --http_listen) ---
python3 train.py ... --rm-type remote_rm --rm-url http://rewardd.ml.svc:8080/v1/slime \
  --reward-key reward --label-key rubric
