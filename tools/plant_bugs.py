"""Bug planting (mutation testing): does the test suite notice plausible bugs?

Each entry of :data:`MUTANTS` plants one small, realistic bug (a swapped argument, a
dropped term, a config value silently ignored, ...) in one file, runs the tests that cover
that code, and records whether they fail. A mutant the tests fail on is *killed*; one they
pass is a *survivor*: a bug of that kind would reach users unnoticed, so a survivor points
at a missing test (or, rarely, at a mutant that does not change behaviour).

How it runs: the repository (tracked and untracked-but-not-ignored files, without
``results/`` and ``runs/``) is copied once into a temporary directory (one copy per job);
for each mutant the file is rewritten there, ``python -m pytest -x -q -p no:cacheprovider
-n 0 <tests>`` runs in that copy with ``PYTHONPATH`` set to the copy (so the copy's
``jaxgen`` is imported, not the editable install of this checkout: the tool checks this
before running anything), and the file is restored. Your working tree is never modified.
All runs share one XLA compilation cache (``JAX_COMPILATION_CACHE_DIR``, honoured by
``tests/conftest.py``). Before the mutants, the union of their tests runs once on the
unmutated copy (the baseline): a red baseline would make every mutant look killed, so the
tool stops there.

Outcomes: ``killed`` (pytest exit code 1: a test failed), ``killed (error)`` (exit codes
2-5 or a crash, e.g. a collection error), ``killed (timeout)`` (the per-mutant time limit,
``--timeout``, default 300 s), ``survived`` (exit code 0). The kill rate counts all three
kinds of killed.

Run it from the repository root (it is not part of the test suite)::

    python -m tools.plant_bugs --check        # catalogue only: every snippet found once (seconds)
    python -m tools.plant_bugs --list         # the catalogue
    python -m tools.plant_bugs                # baseline, then every mutant
    python -m tools.plant_bugs --only losses_saturating_sign gan_d_loss_args_swapped
    python -m tools.plant_bugs --jobs 2 --out results/plant_bugs/report.json   # + report.md

``python tools/plant_bugs.py ...`` works the same. Time: roughly one minute per mutant on
a 2-core CPU (killed ones are quicker: ``-x`` stops at the first failure; survivors run
all their tests), so the whole catalogue takes about an hour, plus a baseline of several
minutes. ``--jobs N`` runs N mutants at once, each in its own copy; it only helps with
more than two cores.

Adding a mutant: append a :class:`Mutant` to :data:`MUTANTS` with a unique ``name``
(prefixed by its area), the repo-relative ``path``, an ``old`` snippet copied exactly from
that file that occurs there exactly once (include neighbouring text to make it unique),
the buggy ``new`` text (it must change behaviour: a rewrite that computes the same thing
would "survive" for no reason), ``tests``: the test files or node ids that cover the code
(grep tests/ for the function; cheap ones first, since ``-x`` stops at the first
failure; a narrower set only lowers the kill rate), and ``why``: the real bug it models,
in one line. Then run ``--check`` and ``--only <name>``. ``--check`` also fails when a
refactor changes a snippet so that it no longer occurs exactly once.
"""
from __future__ import annotations

import argparse
import ast
import concurrent.futures
import datetime
import json
import os
import platform
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import NamedTuple, Optional

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXCLUDED_DIRS = ("results", "runs", ".git")    # not needed by the tests
EXCLUDED_PARTS = ("__pycache__", ".pytest_cache")


class Mutant(NamedTuple):
  name: str                  # unique, prefixed by the area
  path: str                  # repo-relative file to mutate
  old: str                   # exact snippet, occurring exactly once in ``path``
  new: str                   # the buggy replacement
  tests: tuple[str, ...]     # test files / node ids covering the code (cheap ones first)
  why: str                   # the real bug this models, one line


# --------------------------------------------------------------------------- test sets
T_LOSSES = "tests/test_losses.py"
T_DIST = "tests/test_distributions.py"
T_CONFIG = "tests/test_config.py"
T_CKPT = "tests/test_checkpoint.py"
T_VAE = "tests/models/test_vae.py"
T_AE = "tests/models/test_ae.py"
T_GAN = "tests/models/test_gan.py"
T_IFACE = "tests/models/test_interface.py"
T_STATE = "tests/models/test_state.py"
T_NETS_GAN = "tests/nets/test_adversarial.py"
T_PIPE = "tests/data/test_pipeline.py"
T_PREP = "tests/data/test_preprocess.py"
T_STEPS = "tests/train/test_steps.py"
T_EVAL = "tests/train/test_evaluator.py"
T_LOOP = "tests/train/test_loop.py"
T_WIRING = "tests/train/test_wiring.py"
T_OPTIONS = "tests/models/test_options.py"
T_STAB = "tests/models/test_gan_stabilizers.py"
T_AUG = "tests/nets/test_augment.py"
T_DEFAULT_OPT = "tests/train/test_default_optimization.py"
T_SELECT = "tests/train/test_selection.py"
T_PAIRED = "tests/data/test_paired.py"
T_STUDIO = "tests/studio/test_studio.py"
T_IQ = "tests/evaluation/test_image_quality.py"
T_STREAM = "tests/data/test_streaming.py"
T_FOLDERS = "tests/data/test_folders.py"
T_FEATURES = "tests/evaluation/test_feature_judge.py"
# single tests that read the trained numbers (nll, neg_elbo, samples) of whole runs
LOOP_VAE_OUTPUTS = "tests/train/test_loop.py::test_outputs_checkpoints_and_exact_resume"
LOOP_GAN_EMA = "tests/train/test_loop.py::test_generator_ema_is_checkpointed_and_resumed_exactly"
LOOP_SKIP_NONFINITE = ("tests/train/test_loop.py::test_skip_nonfinite_updates",
                       "tests/train/test_loop.py::"
                       "test_skip_nonfinite_applies_finite_updates_unchanged_and_skips_the_rest")
E2E_VAE = "tests/test_train_py.py::test_train_then_evaluate"
RECOVERY_DAMAGED = "tests/train/test_recovery.py::test_damaged_latest_checkpoint_is_skipped"

IWAE_TESTS = (T_LOSSES, T_VAE, T_IFACE, LOOP_VAE_OUTPUTS, E2E_VAE)

# --------------------------------------------------------------------------- the catalogue
MUTANTS: list[Mutant] = [
    # ---------------------------------------------------------------- compiled init
    Mutant("init_scale_fma_contracted", "jaxgen/nets/adversarial.py",
           "  return 1.0 + _written_out(0.02 * _standard_normal(key, shape, dtype))",
           "  return 1.0 + 0.02 * _standard_normal(key, shape, dtype)",
           ("tests/train/test_steps.py::test_initializers_give_the_same_values_compiled_and_op_by_op",),
           "compiled model.init fuses the BatchNorm scale's product and sum into one FMA: the "
           "initial state differs in the last bits from op-by-op init (published runs change)"),
    Mutant("init_normal_scale_folded", "jaxgen/nets/adversarial.py",
           "    return _standard_normal(key, shape, dtype) * jnp.array(stddev, dtype)",
           "    return jax.random.normal(key, shape, dtype) * jnp.array(stddev, dtype)",
           ("tests/train/test_steps.py::test_initializers_give_the_same_values_compiled_and_op_by_op",),
           "compiled model.init folds N(0, s^2)'s scale into the sampler's constants: DCGAN "
           "kernels differ in the last bits from op-by-op init"),
    # ---------------------------------------------------------------- losses.py
    Mutant("losses_d_real_fake_swapped", "jaxgen/losses.py",
           "  real = real_label * jax.nn.softplus(-real_logits)",
           "  real_logits, fake_logits = fake_logits, real_logits\n"
           "  real = real_label * jax.nn.softplus(-real_logits)",
           (T_LOSSES, T_GAN, T_STEPS),
           "discriminator_loss uses its arguments the wrong way round: real and generated terms swapped"),
    Mutant("losses_saturating_sign", "jaxgen/losses.py",
           "return -jnp.mean(jax.nn.softplus(fake_logits))",
           "return jnp.mean(jax.nn.softplus(fake_logits))",
           (T_LOSSES, T_GAN),
           "saturating generator loss with its sign flipped: G minimizes -E log(1 - D(G(z))) and helps D"),
    Mutant("losses_saturating_maps_to_non_saturating", "jaxgen/losses.py",
           '"saturating": generator_loss_saturating,',
           '"saturating": generator_loss_non_saturating,',
           (T_LOSSES, T_CONFIG, T_GAN, T_IFACE),
           "gan.generator_loss='saturating' silently uses the non-saturating loss (registry entry wrong)"),
    Mutant("losses_label_smoothing_term_dropped", "jaxgen/losses.py",
           " + (1.0 - real_label) * jax.nn.softplus(real_logits)",
           "",
           (T_LOSSES, T_GAN),
           "one-sided label smoothing without the (1 - a) log(1 - D(x)) term: the target is scaled, not smoothed"),
    Mutant("losses_elbo_ignores_beta", "jaxgen/losses.py",
           "return ElboTerms(recon - beta * kl, recon, kl)",
           "return ElboTerms(recon - kl, recon, kl)",
           (T_LOSSES, T_VAE, T_OPTIONS),
           "the ELBO ignores beta: a beta-VAE trains as a plain VAE"),
    Mutant("losses_elbo_mean_over_batch", "jaxgen/losses.py",
           "recon = jnp.mean(log_likelihood(z, x), axis=0)",
           "recon = jnp.mean(log_likelihood(z, x), axis=-1)",
           (T_LOSSES, T_VAE, T_IFACE),
           "ELBO reconstruction term averaged over the batch axis instead of the sample axis"),
    Mutant("losses_iwae_no_log_k", "jaxgen/losses.py",
           "return m + jnp.log(s) - jnp.log(float(num_samples))",
           "return m + jnp.log(s)",
           IWAE_TESTS,
           "IWAE bound is log sum_k w_k instead of log (1/K) sum_k w_k: off by log K"),
    Mutant("losses_iwae_rescale_inverted", "jaxgen/losses.py",
           "running_sum * jnp.exp(running_max - new_max)",
           "running_sum * jnp.exp(new_max - running_max)",
           IWAE_TESTS,
           "running log-sum-exp rescales the old sum by exp(new - old) instead of exp(old - new)"),
    # ---------------------------------------------------------------- distributions.py
    Mutant("dist_reparameterize_exp_logvar", "jaxgen/distributions.py",
           "return mean + jnp.exp(0.5 * logvar) * eps",
           "return mean + jnp.exp(logvar) * eps",
           (T_DIST, T_LOSSES, T_VAE),
           "reparameterization scales eps by the variance exp(logvar) instead of the std exp(logvar / 2)"),
    Mutant("dist_kl_missing_logvar_term", "jaxgen/distributions.py",
           "jnp.square(mean) - 1.0 - logvar, axis=-1)",
           "jnp.square(mean) - 1.0, axis=-1)",
           (T_DIST, T_LOSSES, T_VAE),
           "Gaussian KL without the -log sigma^2 term: variances collapse to 0 for free"),
    Mutant("dist_gaussian_log_prob_no_2pi", "jaxgen/distributions.py",
           "-0.5 * jnp.sum(_LOG_2PI + logvar + jnp.square(x - mean)",
           "-0.5 * jnp.sum(logvar + jnp.square(x - mean)",
           (T_DIST, T_LOSSES, T_VAE),
           "gaussian_log_prob misses the log 2 pi normalizer: NLLs of Gaussian models off by a constant"),
    Mutant("dist_bernoulli_log_prob_sign", "jaxgen/distributions.py",
           "return jnp.sum(x * logits - jax.nn.softplus(logits), axis=-1)",
           "return jnp.sum(jax.nn.softplus(logits) - x * logits, axis=-1)",
           (T_DIST, T_AE, T_VAE),
           "Bernoulli log-likelihood returned as the cross-entropy (sign flipped)"),
    # ---------------------------------------------------------------- models/gan.py
    Mutant("gan_d_loss_args_swapped", "jaxgen/models/gan.py",
           "losses.discriminator_loss(real_logits, fake_logits, self.real_label)",
           "losses.discriminator_loss(fake_logits, real_logits, self.real_label)",
           (T_GAN, T_STEPS, T_EVAL, LOOP_GAN_EMA),
           "real and generated examples swapped in the discriminator's loss"),
    Mutant("gan_generator_loss_ignores_config", "jaxgen/models/gan.py",
           "self.generator_loss = losses.GENERATOR_LOSSES[g.generator_loss]",
           "self.generator_loss = losses.generator_loss_non_saturating",
           (T_GAN, T_IFACE, T_STEPS, T_OPTIONS),
           "gan.generator_loss='saturating' silently uses the non-saturating loss (model ignores the key)"),
    Mutant("gan_generator_sees_stale_discriminator", "jaxgen/models/gan.py",
           "    for i in range(self.d_steps):\n"
           "      state, d_metrics = self.discriminator_step(state, batch, jax.random.fold_in(k_d, i))\n"
           "    state, g_metrics = self.generator_step(state, batch.shape[0], k_g)\n",
           "    stale = state\n"
           "    for i in range(self.d_steps):\n"
           "      state, d_metrics = self.discriminator_step(state, batch, jax.random.fold_in(k_d, i))\n"
           "    g_state, g_metrics = self.generator_step(stale, batch.shape[0], k_g)\n"
           "    state = state.replace(generator=g_state.generator, generator_ema=g_state.generator_ema)\n",
           (T_GAN, T_STEPS),
           "generator updated against the discriminator from before its update (simultaneous, not alternating)"),
    Mutant("gan_d_steps_reuse_one_key", "jaxgen/models/gan.py",
           "self.discriminator_step(state, batch, jax.random.fold_in(k_d, i))",
           "self.discriminator_step(state, batch, k_d)",
           (T_GAN, T_STEPS),
           "all d_steps discriminator updates see the same generated batch (one key reused)"),
    Mutant("gan_ema_weights_swapped", "jaxgen/models/gan.py",
           "self.g_ema * e + (1.0 - self.g_ema) * p",
           "(1.0 - self.g_ema) * e + self.g_ema * p",
           (T_GAN, LOOP_GAN_EMA),
           "generator EMA with decay and (1 - decay) swapped: the average barely averages"),
    Mutant("gan_sample_ignores_ema", "jaxgen/models/gan.py",
           "params = state.generator_ema if self.g_ema > 0 else gen.params",
           "params = gen.params",
           (T_GAN, T_EVAL, LOOP_GAN_EMA),
           "samples drawn from G's raw params although gan.g_ema > 0 (the EMA is kept but never used)"),
    Mutant("gan_real_label_ignored", "jaxgen/models/gan.py",
           "self.real_label = float(g.real_label)",
           "self.real_label = 1.0",
           (T_GAN, T_STEPS, T_CONFIG, T_OPTIONS),
           "gan.real_label ignored: one-sided label smoothing silently off"),
    Mutant("gan_generate_clips_instead_of_mapping", "jaxgen/models/gan.py",
           "      x = (x + 1.0) / 2.0",
           "      x = jnp.clip(x, 0.0, 1.0)",
           (T_GAN, T_IFACE, T_EVAL),
           "generate does not map tanh output in [-1, 1] back to [0, 1] (clips it: dark half lost)"),
    Mutant("gan_eval_d_fake_on_real_data", "jaxgen/models/gan.py",
           '"d_fake": jax.nn.sigmoid(self.judge_each(state, fake))}',
           '"d_fake": jax.nn.sigmoid(self.judge_each(state, x))}',
           (T_GAN, T_EVAL, T_IFACE),
           "eval d_fake computed on the test data instead of generated samples"),
    Mutant("gan_optimizer_ignores_group_lr", "jaxgen/models/gan.py",
           "lr = opt_config.learning_rate or optimization.learning_rate",
           "lr = optimization.learning_rate",
           (T_GAN, T_STEPS, T_CONFIG, T_OPTIONS),
           "gan.g_optimizer/d_optimizer.learning_rate ignored: both players use config.learning_rate"),
    Mutant("gan_d_schedule_ignores_d_steps", "jaxgen/models/gan.py",
           "make_optimizer(g.d_optimizer, optimization, g.d_steps)",
           "make_optimizer(g.d_optimizer, optimization)",
           (T_GAN, T_STATE, T_STEPS),
           "D's decay schedule spans num_steps updates although D makes d_steps per step: decays d_steps x too fast"),
    Mutant("gan_mlp_d_drops_mb_normalize", "jaxgen/models/gan.py",
           "mb_normalize=g.mb_normalize,\n                                         maxout_pieces",
           "maxout_pieces",
           (T_GAN, T_IFACE, T_STEPS, T_OPTIONS),
           "gan.mb_normalize not passed to the MLP discriminator: the sum, not the mean, similarity"),
    Mutant("gan_mlp_d_drops_maxout_pieces", "jaxgen/models/gan.py",
           "maxout_pieces=g.maxout_pieces, pack=self.pack,",
           "pack=self.pack,",
           (T_GAN, T_IFACE, T_STEPS, T_OPTIONS),
           "gan.maxout_pieces not passed to the MLP discriminator: LeakyReLU units instead of maxout"),
    # ---------------------------------------------------------------- models/vae.py
    Mutant("vae_ignores_beta", "jaxgen/models/vae.py",
           "num_samples=num_samples or self.num_samples, beta=self.beta)",
           "num_samples=num_samples or self.num_samples)",
           (T_VAE, T_IFACE, T_OPTIONS),
           "model.beta ignored by the VAE: every beta-VAE trains with beta = 1"),
    Mutant("vae_ignores_num_samples", "jaxgen/models/vae.py",
           "num_samples=num_samples or self.num_samples, beta=self.beta)",
           "num_samples=num_samples or 1, beta=self.beta)",
           (T_VAE, T_IFACE, T_OPTIONS),
           "model.num_samples ignored: the training ELBO always uses one Monte-Carlo sample"),
    Mutant("vae_nll_sign_flipped", "jaxgen/models/vae.py",
           "return -losses.iwae_bound(",
           "return losses.iwae_bound(",
           (T_VAE, T_IFACE, LOOP_VAE_OUTPUTS, E2E_VAE),
           "the sign of the VAE's importance-weighted NLL flipped (reports log p(x), not -log p(x))"),
    Mutant("vae_gaussian_ignores_decoder_logvar", "jaxgen/models/vae.py",
           'D.gaussian_log_prob(flat_x, flat_out, params["decoder_logvar"])',
           "D.gaussian_log_prob(flat_x, flat_out, 0.0)",
           (T_VAE, T_IFACE),
           "Gaussian likelihood with unit variance: the learned decoder_logvar is never used"),
    Mutant("vae_eval_uses_training_beta", "jaxgen/models/vae.py",
           '"VAE.eval_batch"), num_samples=1)',
           '"VAE.eval_batch"), num_samples=1, beta=self.beta)',
           (T_VAE, T_IFACE, LOOP_VAE_OUTPUTS),
           "eval neg_elbo weighted by the training beta instead of 1 (not a bound on -log p(x))"),
    # ---------------------------------------------------------------- models/ae.py, codec.py
    Mutant("ae_gaussian_abs_error", "jaxgen/models/ae.py",
           "return jnp.sum(jnp.square(flat_out - flat_x), axis=-1)",
           "return jnp.sum(jnp.abs(flat_out - flat_x), axis=-1)",
           (T_AE, T_IFACE),
           "autoencoder's Gaussian reconstruction loss is L1, not squared error"),
    Mutant("codec_generate_uniform_codes", "jaxgen/models/codec.py",
           "z = jax.random.normal(key, (n, self.latent_dim))",
           "z = jax.random.uniform(key, (n, self.latent_dim))",
           (T_AE, T_VAE, T_IFACE),
           "AE/VAE samples decode codes from U[0, 1) instead of the prior N(0, I)"),
    Mutant("codec_mean_image_no_sigmoid", "jaxgen/models/codec.py",
           "return jax.nn.sigmoid(out)",
           "return out",
           (T_VAE, T_AE, T_IFACE, E2E_VAE),
           "Bernoulli decoder pictures show logits, not probabilities (no sigmoid)"),
    # ---------------------------------------------------------------- models/state.py
    Mutant("state_cosine_is_linear", "jaxgen/models/state.py",
           "return optax.cosine_decay_schedule(peak, steps, alpha=end / peak if peak else 0.0)",
           "return optax.linear_schedule(peak, end, steps)",
           (T_STATE, T_GAN, T_STEPS),
           "lr_schedule='cosine' silently decays linearly"),
    Mutant("state_schedule_ignores_updates_per_step", "jaxgen/models/state.py",
           "steps = int(optimization.num_steps) * int(updates_per_step)",
           "steps = int(optimization.num_steps)",
           (T_STATE, T_GAN),
           "the schedule length ignores updates_per_step (d_steps): D's learning rate hits its floor early"),
    Mutant("state_lr_final_fraction_ignored", "jaxgen/models/state.py",
           'end = peak * float(optimization.lr_final_fraction)',
           "end = 0.0",
           (T_STATE, T_GAN),
           "lr_final_fraction ignored: decayed schedules always end at 0"),
    Mutant("state_skip_nonfinite_skips_every_update", "jaxgen/models/state.py",
           "return optax.apply_if_finite(tx, max_consecutive_errors=1_000_000)",
           "return optax.apply_if_finite(optax.chain(tx, optax.scale(0.0)), max_consecutive_errors=1_000_000)",
           (T_STATE, *LOOP_SKIP_NONFINITE),
           "skip_nonfinite skipping every update (zero updates), not just the non-finite ones"),
    # ---------------------------------------------------------------- train/steps.py, data/pipeline.py
    Mutant("steps_same_key_every_step", "jaxgen/train/steps.py",
           "jax.random.split(jax.random.fold_in(train_key, t))",
           "jax.random.split(train_key)",
           (T_WIRING, T_STEPS, T_LOOP),
           "every step uses the same preprocessing and model key (noise, binarization repeat each step)"),
    Mutant("steps_static_binarize_ignored", "jaxgen/train/steps.py",
           'if config.dataset.preprocess == "static_binarize":',
           "if False:",
           (T_WIRING, T_STEPS, T_PREP, T_LOOP),
           "dataset.preprocess='static_binarize' trains on grey levels (the binarization is never applied)"),
    Mutant("steps_map_gives_every_seed_seed0_keys", "jaxgen/train/steps.py",
           "      return train_chunk(*(next(it) if p else a for a, p in zip(args, per_seed)))",
           "      return train_chunk(*(jax.tree.map(lambda x: x[0], a) if p and i > 0 else "
           "(next(it) if p else a) for i, (a, p) in enumerate(zip(args, per_seed))))",
           (T_WIRING, T_STEPS, T_LOOP),
           "seed_batching='map' gives every seed the first seed's train and data keys"),
    Mutant("steps_vmap_and_map_swapped", "jaxgen/train/steps.py",
           'if how == "vmap":',
           'if how == "map":',
           (T_WIRING, T_STEPS, T_DEFAULT_OPT),
           "seed_batching 'vmap' and 'map' swapped (seeds no longer bit-identical to single-seed runs)"),
    Mutant("steps_eval_preprocess_ignored", "jaxgen/train/steps.py",
           '  mode = config.dataset.eval_preprocess\n',
           '  mode = config.dataset.preprocess\n',
           (T_WIRING, T_STEPS, T_EVAL, T_LOOP, E2E_VAE),
           "the test split is preprocessed with the training preprocess (dataset.eval_preprocess ignored)"),
    Mutant("steps_chunk_restarts_epoch_order", "jaxgen/train/steps.py",
           "perm0 = pipeline.epoch_permutation(data_key, start // spe, num_train)",
           "perm0 = pipeline.epoch_permutation(data_key, 0, num_train)",
           (T_WIRING, T_STEPS, T_PIPE, T_LOOP),
           "a chunk (or a resume) starting mid-epoch reads epoch 0's order instead of the current epoch's"),
    Mutant("pipeline_order_ignores_epoch", "jaxgen/data/pipeline.py",
           "return jax.random.permutation(jax.random.fold_in(data_key, epoch), num_examples)",
           "return jax.random.permutation(data_key, num_examples)",
           (T_WIRING, T_PIPE, T_STEPS),
           "the data order does not depend on the epoch: every epoch sees the same batches"),
    Mutant("pipeline_batch_at_wrong_offset", "jaxgen/data/pipeline.py",
           "start = (step % spe) * batch_size",
           "start = step % spe",
           (T_WIRING, T_PIPE, T_STEPS),
           "batch_at offsets by steps, not by steps * batch_size: overlapping batches, most data unseen"),
    # ---------------------------------------------------------------- train/loop.py, checkpoint.py
    Mutant("loop_keep_checkpoints_ignored", "jaxgen/train/loop.py",
           'ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), config.keep_checkpoints, log=log,',
           'ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), 3, log=log,',
           (T_LOOP, T_CKPT),
           "config.keep_checkpoints ignored by the trainer (always keeps 3)"),
    Mutant("loop_config_differences_empty", "jaxgen/train/loop.py",
           "      out.append(f\"{prefix}{k}: {a!r} -> {b!r}\")\n  return out\n",
           "      out.append(f\"{prefix}{k}: {a!r} -> {b!r}\")\n  return []\n",
           (T_LOOP,),
           "config_differences finds nothing: resuming with a different config is never refused"),
    Mutant("loop_new_key_default_is_a_change", "jaxgen/train/loop.py",
           "  out = dict(defaults)\n", "  out = {}\n",
           (T_LOOP,),
           "a workdir written before a config key existed can no longer be resumed"),
    Mutant("loop_learning_rate_resumable", "jaxgen/train/loop.py",
           '                     "dataset.stream_prefetch")',
           '                     "dataset.stream_prefetch", "learning_rate")',
           (T_LOOP,),
           "learning_rate listed as resumable: a resume may silently change the math"),
    Mutant("gan_truncation_ignored", "jaxgen/models/gan.py",
           "    if not self.truncation:\n      return self.noise(key, n)",
           "    if True:\n      return self.noise(key, n)",
           ("tests/models/test_gan.py",),
           "gan.truncation accepted but the samples drawn from the untruncated normal"),
    Mutant("gan_truncation_in_training", "jaxgen/models/gan.py",
           "    z = self.noise(key, batch_size)",
           "    z = self.sample_noise(key, batch_size)",
           ("tests/models/test_gan.py",),
           "the generator trained on truncated noise too"),
    Mutant("gan_lazy_r1_unscaled", "jaxgen/models/gan.py",
           "lambda p: grad_fn(p, self.r1_gamma * self.r1_every), lambda p: grad_fn(p, 0.0),",
           "lambda p: grad_fn(p, self.r1_gamma), lambda p: grad_fn(p, 0.0),",
           ("tests/models/test_gan_stabilizers.py::test_lazy_r1_is_the_scaled_penalty_on_every_kth_step_and_none_between",),
           "lazy R1 without the r1_every factor: the penalty k times weaker than asked"),
    Mutant("gan_lazy_r1_wrong_steps", "jaxgen/models/gan.py",
           "          state.step % self.r1_every == 0,\n",
           "          state.step % self.r1_every == 1,\n",
           ("tests/models/test_gan_stabilizers.py::test_lazy_r1_is_the_scaled_penalty_on_every_kth_step_and_none_between",),
           "lazy R1 on the wrong steps (off by one)"),
    Mutant("ckpt_mismatch_shapes_ignored", "jaxgen/checkpoint.py",
           "    shapes = sorted(k for k in set(saved) & set(want) if saved[k] != want[k])",
           "    shapes = []",
           (T_CKPT,),
           "a checkpoint of other shapes is reported without naming them (or as damaged and moved aside)"),
    Mutant("ckpt_restore_oldest_first", "jaxgen/checkpoint.py",
           "sorted(self._manager.all_steps(), reverse=True)",
           "sorted(self._manager.all_steps())",
           (T_CKPT, T_LOOP, RECOVERY_DAMAGED),
           "restore without a step returns the oldest readable checkpoint, not the latest"),
    # ---------------------------------------------------------------- train/evaluator.py
    Mutant("eval_nll_fixed_k", "jaxgen/train/evaluator.py",
           "nll = self.nll(state, k, key)",
           "nll = self.nll(state, 100, key)",
           (T_EVAL, T_IFACE, "tests/train/test_loop.py::test_final_nll_uses_eval_nll_samples",
            LOOP_VAE_OUTPUTS, E2E_VAE),
           "the final NLL uses a fixed K = 100 while eval.json reports eval.nll_samples"),
    Mutant("eval_std_with_ddof_1", "jaxgen/train/evaluator.py",
           "float(vals.std())",
           "float(vals.std(ddof=1))",
           (T_EVAL, T_STEPS),
           "across-seed std is the sample std (ddof=1) while documented as the population std"),
    # ---------------------------------------------------------------- config.py
    Mutant("config_real_label_unchecked", "jaxgen/config.py",
           '_number(config, "gan.real_label", lambda v: 0.5 < v <= 1,',
           '_number(config, "gan.real_label", lambda v: True,',
           (T_CONFIG,),
           "range check of gan.real_label removed"),
    Mutant("config_batch_size_vs_split_unchecked", "jaxgen/train/run.py",
           "  if config.batch_size > n:",
           "  if False:",
           (T_CONFIG,),
           "batch_size larger than the training split accepted (zero steps per epoch)"),
    Mutant("config_net_model_mismatch_unchecked", "jaxgen/train/run.py",
           '  if config.model.name != "pix2pix" and config.model.net not in nets:',
           "  if False:",
           (T_CONFIG,),
           "model.net not checked against the model (e.g. 'dcgan' for a VAE, 'conv' for a GAN)"),
    Mutant("config_num_seeds_non_gan_unchecked", "jaxgen/config.py",
           'if config.num_seeds > 1 and m.name not in ("gan", "pix2pix"):',
           "if False:",
           (T_CONFIG,),
           "num_seeds > 1 accepted for AE/VAE, which do not support several seeds"),
    # ---------------------------------------------------------------- added with the tests of issue 12
    Mutant("dist_standard_normal_no_2pi", "jaxgen/distributions.py",
           "return -0.5 * jnp.sum(_LOG_2PI + jnp.square(x), axis=-1)",
           "return -0.5 * jnp.sum(jnp.square(x), axis=-1)",
           (T_DIST, T_LOSSES, T_VAE),
           "log N(x; 0, I) without its normalizer: the IWAE weights and the NLL off by a constant"),
    Mutant("losses_iwae_same_key_every_chunk", "jaxgen/losses.py",
           "z = D.reparameterize(jax.random.fold_in(key, i), mean, logvar, (chunk,))",
           "z = D.reparameterize(key, mean, logvar, (chunk,))",
           IWAE_TESTS,
           "a key reused: every chunk of the IWAE bound draws the same samples"),
    Mutant("steps_start_ignored", "jaxgen/train/steps.py",
           "    steps = start + jnp.arange(chunk, dtype=jnp.int32)\n    (state, perm), metrics",
           "    steps = jnp.arange(chunk, dtype=jnp.int32)\n    (state, perm), metrics",
           (T_WIRING, T_STEPS, T_LOOP),
           "every chunk numbers its steps from 0: keys and batches of the first chunk repeat"),
    Mutant("steps_keys_shared_by_purpose", "jaxgen/train/steps.py",
           "return {name: jax.random.fold_in(root, i) for i, name in enumerate(KEY_PURPOSES)}",
           "return {name: jax.random.fold_in(root, min(i, 1)) for i, name in enumerate(KEY_PURPOSES)}",
           (T_WIRING, T_STEPS),
           "a key reused across purposes: data order and evaluation draw from the training key"),
    Mutant("eval_map_batches_same_key", "jaxgen/batching.py",
           "outs = [fn(take_rows(x, slice(i * batch_size, (i + 1) * batch_size)), jax.random.fold_in(key, i))",
           "outs = [fn(take_rows(x, slice(i * batch_size, (i + 1) * batch_size)), key)",
           (T_WIRING, T_EVAL),
           "a key reused: every evaluation batch draws the same noise"),
    Mutant("eval_across_seeds_first_seed", "jaxgen/train/evaluator.py",
           "out[k] = float(vals.mean())",
           "out[k] = float(vals[0])",
           (T_EVAL, T_STEPS),
           "the reported mean over seeds is the first seed's value"),
    Mutant("config_bools_unchecked", "jaxgen/config.py",
           "if not isinstance(_get(config, path), bool):",
           "if False:",
           (T_CONFIG,),
           "boolean keys accept any value ('no' is truthy)"),
    Mutant("run_workdir_not_checked", "jaxgen/train/run.py",
           "  if workdir is not None:\n    check_workdir(workdir)",
           "  if False:\n    check_workdir(workdir)",
           ("tests/test_train_py.py::test_missing_config_file_and_unwritable_workdir_are_one_line",),
           "an unwritable workdir is found only at the first checkpoint, after compiling and training"),
    Mutant("layers_similarity_bwd_not_symmetrized", "jaxgen/nets/layers.py",
           "w = w + jnp.swapaxes(w, 0, 1)",
           "w = 2.0 * w",
           ("tests/nets/test_layers.py", T_NETS_GAN),
           "minibatch similarity's hand-written backward pass assumes a symmetric upstream gradient"),
    Mutant("layers_sorted_similarity_ties_kept", "jaxgen/nets/layers.py",
           "dv = (-gs * ((below - n_below) - (above - n_above))",
           "dv = (-gs * (below - above)",
           ("tests/nets/test_layers.py",),
           "the sorted similarity's backward counts tied pairs with the sort order's sign (not 0)"),
    Mutant("layers_sorted_similarity_above_unflipped", "jaxgen/nets/layers.py",
           "[x[::-1, ..., k + i] for i in range(k)]",
           "[x[..., k + i] for i in range(k)]",
           ("tests/nets/test_layers.py",),
           "the sums from above are left in reversed order (each value gets another's sum)"),
    Mutant("layers_sorted_similarity_grad_sign", "jaxgen/nets/layers.py",
           "        - ((g_below - tg_below) - (g_above - tg_above)))",
           "        + ((g_below - tg_below) - (g_above - tg_above)))",
           ("tests/nets/test_layers.py",),
           "the other values' share of the sorted similarity's gradient enters with the wrong sign"),
    Mutant("layers_similarity_always_pairwise", "jaxgen/nets/layers.py",
           "  if m.shape[-1] == 1:\n    return sorted_similarity(m[..., 0])",
           "  if False:\n    return sorted_similarity(m[..., 0])",
           ("tests/nets/test_layers.py",),
           "one-dimensional kernels still build the O(N^2 B) pairwise similarities"),
    Mutant("xla_options_override_the_user", "jaxgen/xla_options.py",
           'if f"--{name}" not in xla_flags]',
           'if True]',
           ("tests/test_xla_options.py",),
           "jaxgen's XLA default is appended after the user's own setting of the same option"),
    Mutant("xla_options_switch_ignored", "jaxgen/xla_options.py",
           '  return environ.get(SWITCH, "").strip().lower() in ("off", "0", "false", "no")',
           '  return False',
           ("tests/test_xla_options.py",),
           "JAXGEN_XLA_DEFAULTS=off does not turn jaxgen's XLA defaults off"),
    Mutant("xla_options_no_cpu_devices", "jaxgen/xla_options.py",
           "  return cores if cores > 1 else None",
           "  return None",
           ("tests/test_xla_options.py",),
           "jaxgen no longer gives JAX one CPU device per core (multi-seed runs on one core)"),
    Mutant("xla_options_user_devices_taken_as_own", "jaxgen/xla_options.py",
           "  _own_cpu_devices = int(count) if own else None",
           "  _own_cpu_devices = int(count)",
           ("tests/test_xla_options.py",),
           "CPU devices the user asked for (--cpu_devices, the launcher) are taken for jaxgen's "
           "per-core ones, so the batch is not split over them"),
    Mutant("mesh_batch_split_over_own_cpu_devices", "jaxgen/scale/mesh.py",
           "  if data == 0 and seeds_only:\n    data = 1",
           "  if False:\n    data = 1",
           ("tests/scale/test_mesh.py",),
           "a single-seed run's batch is split over jaxgen's per-core CPU devices (other bits)"),
    Mutant("mesh_auto_runs_always_one", "jaxgen/scale/mesh.py",
           '  if config.seed_batching == "vmap":\n    return 1',
           '  if True:\n    return 1',
           ("tests/scale/test_mesh.py",),
           "the default mesh no longer lays the seeds over the devices"),
    Mutant("mesh_auto_runs_spreads_vmapped_seeds", "jaxgen/scale/mesh.py",
           '  if config.seed_batching == "vmap":\n    return 1',
           '  if False:\n    return 1',
           ("tests/scale/test_mesh.py",),
           "vmapped seeds are spread over device rows, whose programs round differently"),
    Mutant("mesh_auto_runs_leaves_devices_unshared", "jaxgen/scale/mesh.py",
           "(d * data <= num_devices if data else num_devices % d == 0)",
           "d <= num_devices",
           ("tests/scale/test_mesh.py",),
           "the automatic runs need not divide the devices the data axis then shares out"),
    Mutant("xla_options_ynn_reductions_dropped", "jaxgen/xla_options.py",
           '{"xla_cpu_experimental_ynn_fusion_type": "reduce"}',
           '{"xla_cpu_experimental_ynn_fusion_type": ""}',
           ("tests/test_xla_options.py",),
           "jaxgen's XLA default also takes reductions (BatchNorm's statistics) off YNNPACK"),
    Mutant("layers_few_channel_policy_constant", "jaxgen/nets/layers.py",
           '  return jax.default_backend() != "cpu" or not xla_options.cpu_has_avx512()',
           '  return True',
           ("tests/nets/test_layers.py",),
           "the matrix-product kernel gradients stay on AVX-512 CPUs, where the convolution form is faster"),
    Mutant("layers_small_output_patch_everywhere", "jaxgen/nets/layers.py",
           "  if few_or_small and few_channel_convolutions_are_slow():",
           "  if few_or_small and (few_channel_convolutions_are_slow() or x.shape[3] > 16):",
           ("tests/nets/test_layers.py",),
           "small-output kernel gradients stay matrix products on AVX-512 CPUs, where the convolution form is faster"),
    Mutant("layers_bias_grad_mean", "jaxgen/nets/layers.py",
           "return g, (jnp.ones((1, flat.shape[0]), g.dtype) @ flat)[0, :width]",
           "return g, (jnp.ones((1, flat.shape[0]), g.dtype) @ flat)[0, :width] / flat.shape[0]",
           ("tests/nets/test_layers.py",),
           "the hand-written bias gradient averages over the batch instead of summing"),
    Mutant("layers_transpose_kernel_grad_not_flipped", "jaxgen/nets/layers.py",
           "return jnp.transpose(dk, (1, 2, 3, 0))[::-1, ::-1]",
           "return jnp.transpose(dk, (1, 2, 3, 0))",
           ("tests/nets/test_layers.py",),
           "the transposed convolution's kernel gradient not flipped in space"),
    Mutant("layers_phase_offset_off_by_one", "jaxgen/nets/layers.py",
           "phases.append((c, -(-(k - c) // s) if k > c else 0, (r + c - lo) // s))",
           "phases.append((c, -(-(k - c) // s) if k > c else 0, (r + c - lo + 1) // s))",
           ("tests/nets/test_layers.py",),
           "the phase decomposition reads the input one pixel off in some phases"),
    Mutant("layers_scatter_taps_not_flipped", "jaxgen/nets/layers.py",
           "canvas = taps[:, 0, 0, ::-1, ::-1, :]",
           "canvas = taps[:, 0, 0, :, :, :]",
           ("tests/nets/test_layers.py",),
           "the col2im of a 1 x 1 input places the kernel taps unflipped"),
    Mutant("layers_patch_kernel_grad_stride_ignored", "jaxgen/nets/layers.py",
           "(1, sh, sw, 1)) for a in range(kh) for b in range(kw)]",
           "(1, 1, 1, 1))[:, :oh, :ow] for a in range(kh) for b in range(kw)]",
           ("tests/nets/test_layers.py",),
           "the im2col kernel gradient of conv2d reads contiguous instead of strided patches"),
    Mutant("layers_transpose_patch_grad_tap_sign", "jaxgen/nets/layers.py",
           "r, c = lo_h - a + before_h, lo_w - b + before_w",
           "r, c = lo_h + a - (kh - 1) + before_h, lo_w - b + before_w",
           ("tests/nets/test_layers.py",),
           "the matrix-product kernel gradient of conv_transpose walks the taps the wrong way"),
    Mutant("gan_noise_uniform", "jaxgen/models/gan.py",
           "return batch_rows(jax.random.normal(key, (n, self.noise_dim), jnp.float32))",
           "return batch_rows(jax.random.uniform(key, (n, self.noise_dim), jnp.float32, -1.0, 1.0))",
           (T_GAN,),
           "the generator's noise drawn from U(-1, 1) instead of N(0, I)"),
    Mutant("preprocess_dynamic_binarize_thresholds", "jaxgen/data/preprocess.py",
           "return jax.random.bernoulli(key, u).astype(jnp.float32)",
           "return (u > 0.5).astype(jnp.float32)",
           (T_PREP, T_WIRING),
           "dynamic binarization silently thresholds: the same binary digits every epoch"),
    Mutant("uses_auroc_orientation_flipped", "jaxgen/evaluation/detection.py",
           "return float(roc_auc_score(is_anomaly, scores))",
           "return float(roc_auc_score(~is_anomaly, scores))",
           ("tests/evaluation/test_detection.py",),
           "AUROC with the normal examples as the positive class (1 - AUROC reported)"),
    Mutant("uses_select_classes_ignores_exclude", "jaxgen/data/dataset.py",
           "keep = [c for c in (classes or present) if c not in exclude]",
           "keep = [c for c in (classes or present)]",
           ("tests/data/test_select_classes.py",),
           "dataset.exclude_classes silently ignored: leave-one-out trains on the held-out digit"),
    Mutant("uses_slerp_norm_not_interpolated", "jaxgen/uses/explore.py",
           "return ((1 - t) * r0 + t * r1) * direction",
           "return r0 * direction",
           ("tests/uses/test_explore.py",),
           "slerp keeps the first endpoint's norm: the path does not end at the second code"),
    Mutant("detection_zlib_bytes_for_bits", "jaxgen/evaluation/detection.py",
           "      raw = np.packbits(q > 0).tobytes() if binary else q.tobytes()",
           "      raw = q.tobytes()",
           ("tests/evaluation/test_detection.py",),
           "binary images compressed a byte per pixel, not a bit"),
    Mutant("uses_complexity_added", "jaxgen/uses/anomaly.py",
           "out[\"nll\"] - metrics.code_length_nats(images, codec)",
           "out[\"nll\"] + metrics.code_length_nats(images, codec)",
           ("tests/uses/test_uses_on_trained_runs.py",),
           "the code length added to the NLL instead of subtracted"),
    Mutant("samplers_gmm_ignores_weights", "jaxgen/uses/samplers.py",
           "jax.random.categorical(k_comp, jnp.log(jnp.asarray(a[\"weights\"])),",
           "jax.random.categorical(k_comp, jnp.zeros_like(jnp.asarray(a[\"weights\"])),",
           ("tests/uses/test_samplers.py",),
           "the mixture's components drawn uniformly, not by their weights"),
    Mutant("samplers_vae2_no_warmup", "jaxgen/uses/samplers.py",
           "loss_grad(params, z_all[idx], k_loss, jnp.minimum(1.0, i / warmup))",
           "loss_grad(params, z_all[idx], k_loss, 1.0)",
           ("tests/uses/test_samplers.py",),
           "the second stage trained on the full ELBO from the first step (no KL warm-up)"),
    Mutant("samplers_stale_step_restored", "jaxgen/uses/samplers.py",
           "    if int(z[\"__step__\"]) != int(step):",
           "    if False:",
           ("tests/uses/test_samplers.py",),
           "a sampler fitted to another checkpoint's codes restored"),
    Mutant("steps_perturbation_dropped", "jaxgen/train/steps.py",
           "      batch = perturb(batch, jax.random.fold_in(k_prep, 1), rate, mode)",
           "      batch = batch",
           ("tests/train/test_steps.py",),
           "dataset.perturb_rate accepted but the training batches left whole"),
    Mutant("preprocess_perturb_keeps_values", "jaxgen/data/preprocess.py",
           "  return jnp.where(where, value, x)",
           "  return jnp.where(where, x, value)",
           ("tests/data/test_preprocess.py",),
           "the perturbation's mask inverted (1 - rate of the values replaced)"),
    Mutant("uses_llr_without_background", "jaxgen/uses/anomaly.py",
           "  return np.asarray(nll) - np.asarray(bg)",
           "  return np.asarray(nll) - 0 * np.asarray(bg)",
           ("tests/uses/test_uses_on_trained_runs.py",),
           "the likelihood ratio without its background model"),
    Mutant("preprocess_dihedral_condition_unturned", "jaxgen/data/preprocess.py",
           "  if cond.ndim == x.ndim:\n    cond = apply(cond, k)",
           "  if cond.ndim == x.ndim:\n    cond = cond",
           ("tests/data/test_preprocess.py",),
           "the condition image left as it was while its target is turned (pairs misaligned)"),
    Mutant("cond_resize_conv_transposes", "jaxgen/nets/conditional.py",
           "      if self.upsampling == \"resize\":\n        return ResizeConv(",
           "      if False:\n        return ResizeConv(",
           ("tests/nets/test_conditional.py",),
           "upsampling='resize' accepted but the transposed convolutions kept"),
    Mutant("uses_transport_whitens_twice", "jaxgen/uses/explore.py",
           "  a = inv_root @ _psd_power(root @ cov_b @ root, 0.5) @ inv_root",
           "  a = inv_root @ _psd_power(root @ cov_b @ root, 0.5)",
           ("tests/uses/test_explore.py",),
           "the transport matrix without its last C_a^(-1/2)"),
    Mutant("uses_transport_edit_is_the_vector", "jaxgen/uses/explore.py",
           "      if method == \"transport\":\n        a_map, shift = gaussian_transport(*gaussians[a], *gaussians[b])\n        v = za @ a_map + shift - za",
           "      if False:\n        a_map, shift = gaussian_transport(*gaussians[a], *gaussians[b])\n        v = za @ a_map + shift - za",
           ("tests/uses/test_explore.py",),
           "method='transport' accepted but the mean-difference vector applied"),
    Mutant("uses_attribute_vector_reversed", "jaxgen/uses/explore.py",
           "v = means[b] - means[a]",
           "v = means[a] - means[b]",
           ("tests/uses/test_explore.py",),
           "the domain-change edit moves codes away from the target class"),
    Mutant("uses_bits_per_dim_log10", "jaxgen/uses/density.py",
           "return nats / (num_dims * math.log(2.0))",
           "return nats / (num_dims * math.log(10.0))",
           ("tests/uses/test_loading_and_density.py",),
           "bits per dimension divided by ln 10 instead of ln 2"),
    Mutant("uses_density_nll_key_reused", "jaxgen/uses/density.py",
           "n = float(jnp.mean(nll(model, state, x, num_samples, jax.random.fold_in(key, 1),",
           "n = float(jnp.mean(nll(model, state, x, num_samples, jax.random.fold_in(key, 0),",
           ("tests/uses/test_loading_and_density.py",),
           "the density report's NLL drawn with the -ELBO's keys: not the figure of eval.json"),
    Mutant("vae_iwae_objective_is_mean_log_weight", "jaxgen/losses.py",
           "bound = jax.nn.logsumexp(log_w, axis=0) - jnp.log(float(num_samples))",
           "bound = jnp.mean(log_w, axis=0)",
           ("tests/test_losses.py", T_VAE),
           "the 'IWAE' training objective averages the log weights: it is the K-sample ELBO"),
    Mutant("uses_sample_every_seed_uses_first_key", "jaxgen/modes.py",
           "key = jax.random.fold_in(run.keys[i][\"eval\"], 4)",
           "key = jax.random.fold_in(run.keys[0][\"eval\"], 4)",
           ("tests/uses/test_uses_on_trained_runs.py",),
           "every seed's samples drawn with the first seed's key"),
    Mutant("uses_classifier_cache_key_ignores_config", "jaxgen/evaluation/classifier.py",
           "  h.update(json.dumps(fields, sort_keys=True).encode())",
           "  pass",
           ("tests/evaluation/test_classifier.py",),
           "the classifier cache key ignores its config: a changed classifier is never retrained"),
    Mutant("vae_eval_neg_elbo_without_kl", "jaxgen/models/vae.py",
           'return {"neg_elbo": -t.elbo, "recon": -t.recon, "kl": t.kl}',
           'return {"neg_elbo": -t.recon, "recon": -t.recon, "kl": t.kl}',
           (T_VAE, T_IFACE),
           "the evaluation's -ELBO reports the reconstruction term alone (the KL dropped)"),
    Mutant("sq_frechet_drops_cross_term", "jaxgen/evaluation/sample_quality.py",
           "np.trace(cov2) - 2.0 * np.sum(np.sqrt(eig))",
           "np.trace(cov2) - np.sum(np.sqrt(eig))",
           ("tests/evaluation/test_sample_quality.py",),
           "the Fréchet distance's cross term tr (C1 C2)^1/2 without its factor 2"),
    Mutant("sq_frechet_biased_covariance", "jaxgen/evaluation/sample_quality.py",
           "np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))",
           "np.cov(a, rowvar=False), b.mean(0), np.cov(a, rowvar=False))",
           ("tests/evaluation/test_sample_quality.py",),
           "the second set's covariance replaced by the first's (copy-paste)"),
    Mutant("sq_score_uses_uniform_marginal", "jaxgen/evaluation/sample_quality.py",
           "marginal = p.mean(0, keepdims=True)",
           "marginal = np.full((1, p.shape[1]), 1.0 / p.shape[1])",
           ("tests/evaluation/test_sample_quality.py",),
           "the classifier score against a uniform p(y) instead of the samples' marginal"),
    Mutant("sq_label_entropy_of_the_marginal", "jaxgen/evaluation/sample_quality.py",
           "return {\"marginal_entropy\": float(h_marg), \"label_entropy\": float(h_cond.mean())}",
           "return {\"marginal_entropy\": float(h_cond.mean()), \"label_entropy\": float(h_marg)}",
           ("tests/evaluation/test_sample_quality.py",),
           "the score's two entropies swapped"),
    Mutant("sq_confident_reads_the_logit", "jaxgen/evaluation/sample_quality.py",
           "np.mean(probs.max(1) >= self.confidence)",
           "np.mean(logits.max(1) >= self.confidence)",
           ("tests/evaluation/test_sample_quality.py",),
           "the confident share thresholds the logit instead of the probability"),
    Mutant("sq_knn_radius_counts_self", "jaxgen/evaluation/sample_quality.py",
           "return np.partition(d, k, axis=1)[:, k]",
           "return np.partition(d, k - 1, axis=1)[:, k - 1]",
           ("tests/evaluation/test_sample_quality.py",),
           "the k-NN radius counts the point itself as its first neighbour (off by one)"),
    Mutant("sq_precision_recall_swapped_radii", "jaxgen/evaluation/sample_quality.py",
           "precision = np.mean(np.any(d < r_real[:, None], axis=0))",
           "precision = np.mean(np.any(d < r_fake[None, :], axis=0))",
           ("tests/evaluation/test_sample_quality.py",),
           "precision measured with the fake set's radii (precision and recall mixed up)"),
    Mutant("sq_density_non_strict", "jaxgen/evaluation/sample_quality.py",
           "inside = d < knn_radii(real, k)[:, None]",
           "inside = d <= knn_radii(real, k)[:, None]",
           ("tests/evaluation/test_sample_quality.py",),
           "density/coverage with <= instead of the reference implementation's strict <"),
    Mutant("sq_stacked_channel_order", "jaxgen/evaluation/sample_quality.py",
           "weights = num_classes ** np.arange(digits.shape[1] - 1, -1, -1)",
           "weights = num_classes ** np.arange(digits.shape[1])",
           ("tests/evaluation/test_sample_quality.py",),
           "Stacked MNIST's mode index with the channels in reverse order"),
    Mutant("sq_stacked_reads_first_channel_only", "jaxgen/evaluation/sample_quality.py",
           "return np.moveaxis(x, -1, 1).reshape((n * c,) + x.shape[1:-1] + (1,))",
           "return np.repeat(x[..., :1], c, axis=0)",
           ("tests/evaluation/test_sample_quality.py",),
           "every channel read from the first one (one digit counted three times)"),
    Mutant("eval_judge_samples_one_key", "jaxgen/train/evaluator.py",
           "out = [np.asarray(self._generate(state, jax.random.fold_in(key, i), b))",
           "out = [np.asarray(self._generate(state, key, b))",
           ("tests/evaluation/test_sample_judges_in_runs.py",),
           "every batch of judged samples drawn with the same key (repeated samples)"),
    Mutant("eval_judge_ignores_num_metric_samples", "jaxgen/train/evaluator.py",
           "else self.config.eval.num_metric_samples)",
           "else self.config.eval.num_mode_samples)",
           ("tests/evaluation/test_sample_judges_in_runs.py",),
           "eval.num_metric_samples ignored (the mode-sample count used instead)"),
    Mutant("data_stacked_test_from_train", "jaxgen/data/stacked_mnist.py",
           "test, test_y = stack_triples(base.test, base.test_labels, NUM_TEST, rng)",
           "test, test_y = stack_triples(base.train, base.train_labels, NUM_TEST, rng)",
           ("tests/evaluation/test_sample_judges_in_runs.py::test_stacked_mnist_dataset_is_triples_of_its_own_split",),
           "Stacked MNIST's test triples built from training digits"),
    Mutant("gan_d_features_ignored", "jaxgen/models/gan.py",
           "features=g.d_features or g.features, minibatch",
           "features=g.features, minibatch",
           ("tests/evaluation/test_sample_judges_in_runs.py::test_weaker_discriminator_has_d_features_channels",),
           "gan.d_features silently ignored (the weaker discriminator as wide as G)"),
    Mutant("uses_judge_fitted_gaussian_diagonal", "jaxgen/uses/samplers.py",
           "  cov = np.cov(codes, rowvar=False).reshape(codes.shape[1], codes.shape[1])\n  return CodeSampler(\"gaussian\"",
           "  cov = np.diag(codes.var(0))\n  return CodeSampler(\"gaussian\"",
           ("tests/evaluation/test_sample_judges_in_runs.py::test_fitted_gaussian_codes_have_the_codes_mean_and_covariance",),
           "the fitted Gaussian loses the codes' correlations (a diagonal fit)"),
    Mutant("sq_judge_classifier_of_filtered_data", "jaxgen/evaluation/sample_quality.py",
           "  return load_dataset(base_dataset_config(dataset_config)) if \"train_classes\" in dataset.info \\\n      else dataset",
           "  return dataset",
           ("tests/evaluation/test_sample_judges_in_runs.py::test_a_class_filtered_run_is_judged_by_the_classifier_of_every_class",),
           "a class-filtered run's judge classifier trained on the kept classes only"),
    # ---- conditional models (pix2pix, CVAE) and their judges
    Mutant("pix2pix_d_ignores_the_input", "jaxgen/models/pix2pix.py",
           "real_logits, stats = self._discriminator(params, disc.batch_stats, c, y, True)",
           "real_logits, stats = self._discriminator(params, disc.batch_stats, 0 * c, y, True)",
           ("tests/models/test_pix2pix.py",),
           "the discriminator judges real pairs without their input (an unconditional D)"),
    Mutant("pix2pix_l1_against_the_input", "jaxgen/models/pix2pix.py",
           "terms = losses.pix2pix_generator_loss(logits, fake, y, self.gan_weight, self.l1_weight,",
           "terms = losses.pix2pix_generator_loss(logits, fake, c, self.gan_weight, self.l1_weight,",
           ("tests/models/test_pix2pix.py",),
           "the L1 term pulls G's output toward its input instead of the target"),
    Mutant("losses_pix2pix_gan_weight_ignored", "jaxgen/losses.py",
           "total = l1_weight * recon + (gan_weight * adversarial if gan_weight else 0.0)",
           "total = l1_weight * recon + (adversarial if gan_weight else 0.0)",
           ("tests/models/test_pix2pix.py",),
           "the adversarial weight is not applied"),
    Mutant("pix2pix_d_trained_when_l1_only", "jaxgen/models/pix2pix.py",
           "    metrics = {}\n    if self.adversarial:",
           "    metrics = {}\n    if True:",
           ("tests/models/test_pix2pix.py",),
           "L1-only runs still train (and pay for) the discriminator"),
    Mutant("pix2pix_residual_ignored", "jaxgen/models/pix2pix.py",
           "    if self.residual:            # G predicts",
           "    if False:            # G predicts",
           ("tests/models/test_pix2pix.py",),
           "pix2pix.residual silently ignored (a linear output without the input added)"),
    Mutant("cvae_decoder_ignores_the_label", "jaxgen/models/cvae.py",
           "return jnp.concatenate([z, self.one_hot(labels, z.shape[:-1])], axis=-1)",
           "return jnp.concatenate([z, 0 * self.one_hot(labels, z.shape[:-1])], axis=-1)",
           ("tests/models/test_cvae.py",),
           "the decoder never sees the label (no style transfer possible)"),
    Mutant("cvae_transfer_encodes_with_the_target", "jaxgen/models/cvae.py",
           "    mean, _ = self.encode(params, x, labels)\n    return self.decode_labelled(params, mean, targets)",
           "    mean, _ = self.encode(params, x, targets)\n    return self.decode_labelled(params, mean, targets)",
           ("tests/models/test_cvae.py",),
           "style transfer encodes the digit with the wrong label"),
    Mutant("pipeline_conditions_shuffled_apart", "jaxgen/data/pipeline.py",
           "  return take_rows(data, idx)",
           "  return ({k: jnp.take(v, jnp.sort(idx) if k == 'cond' else idx, axis=0) for k, v in data.items()}\n          if isinstance(data, dict) else take_rows(data, idx))",
           ("tests/train/test_conditional_runs.py::test_rows_of_examples_and_conditions_are_drawn_together",),
           "examples and their conditions are drawn with different row orders"),
    Mutant("preprocess_condition_redrawn", "jaxgen/data/preprocess.py",
           "    cond = preprocess(cond, key, deterministic(mode))",
           "    cond = preprocess(cond, key, mode)",
           ("tests/train/test_conditional_runs.py::test_condition_images_are_preprocessed_without_randomness_and_labels_pass",),
           "the input image of a pair is binarized afresh each step"),
    Mutant("translation_baseline_always_nearest", "jaxgen/evaluation/translation.py",
           "return {m: iq.upsample(inputs, out_shape[:2], m) for m in iq.UPSAMPLE_METHODS}",
           "return {m: iq.upsample(inputs, out_shape[:2], 'nearest') for m in iq.UPSAMPLE_METHODS}",
           ("tests/evaluation/test_translation.py",),
           "the bicubic baseline is computed with nearest upsampling"),
    Mutant("style_transfer_includes_own_label", "jaxgen/evaluation/translation.py",
           "shift = np.arange(1, self.num_classes)",
           "shift = np.arange(0, self.num_classes - 1)",
           ("tests/evaluation/test_translation.py",),
           "style transfer counts the reconstruction to the digit's own label as a transfer"),
    Mutant("steps_test_conditions_from_train", "jaxgen/train/steps.py",
           "    test_c = preprocess(jnp.asarray(test_c), keys[\"eval\"], deterministic(mode))",
           "    test_c = preprocess(jnp.asarray(train_c[:len(test_c)]), keys[\"eval\"], deterministic(mode))",
           ("tests/train/test_conditional_runs.py::test_splits_of_a_conditional_run",),
           "the test split is paired with training inputs"),

    # ---------------------------------------------------------------- GAN stabilizers (issue 28)
    Mutant("losses_hinge_d_fake_sign", "jaxgen/losses.py",
           "jnp.mean(jax.nn.relu(1.0 + fake_logits))", "jnp.mean(jax.nn.relu(1.0 - fake_logits))",
           (T_LOSSES, T_STAB), "the hinge's fake term written with the real term's sign"),
    Mutant("losses_hinge_g_sign", "jaxgen/losses.py",
           "  return -jnp.mean(fake_logits)\n", "  return jnp.mean(fake_logits)\n",
           (T_LOSSES, T_GAN), "the generator's hinge loss maximized instead of minimized"),
    Mutant("losses_r1_drops_half", "jaxgen/losses.py",
           "penalty = 0.5 * gamma * jnp.sum", "penalty = gamma * jnp.sum",
           (T_LOSSES, T_STAB), "R1 written as gamma E||grad||^2 (the 1/2 dropped)"),
    Mutant("losses_r1_mean_over_pixels", "jaxgen/losses.py",
           "jnp.sum(jnp.square(grad_x)) / logits.shape[0]", "jnp.mean(jnp.square(grad_x))",
           (T_LOSSES, T_STAB), "R1 averaged over every pixel instead of summed per example"),
    Mutant("augment_translation_rows_only", "jaxgen/nets/augment.py",
           '  return jnp.einsum("njw,niwc->nijc", cols, x)', "  return x",
           (T_AUG, T_STAB), "translation shifts the rows only (the column shift dropped)"),
    Mutant("augment_contrast_per_channel", "jaxgen/nets/augment.py",
           "mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)",
           "mean = jnp.mean(x, axis=(1, 2), keepdims=True)",
           (T_AUG, T_STAB), "contrast around each channel's mean, not the image's"),
    Mutant("augment_cutout_size_from_ratio_squared", "jaxgen/nets/augment.py",
           "ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)",
           "ch, cw = int(h * ratio * ratio + 0.5), int(w * ratio * ratio + 0.5)",
           (T_AUG, T_STAB), "cutout square of a quarter of the side, not half"),
    Mutant("augment_one_key_for_all_kinds", "jaxgen/nets/augment.py",
           "keys = dict(zip(KINDS, jax.random.split(key, len(KINDS))))",
           "keys = dict.fromkeys(KINDS, key)",
           (T_AUG, T_STAB), "every kind of augmentation drawn from the same key"),
    Mutant("gan_augment_reals_only", "jaxgen/models/gan.py",
           "    fake = self._augmented(jax.random.fold_in(k_aug, 1), fake)\n", "",
           (T_STAB,), "D's update augments the real batch but not the generated one"),
    Mutant("gan_augment_same_draws_real_and_fake", "jaxgen/models/gan.py",
           "self._augmented(jax.random.fold_in(k_aug, 1), fake)",
           "self._augmented(jax.random.fold_in(k_aug, 0), fake)",
           (T_STAB,), "real and generated batches get the same augmentation draws"),
    Mutant("gan_generator_step_not_augmented", "jaxgen/models/gan.py",
           "      fake = self._augmented(k_aug, fake)\n", "",
           (T_STAB,), "G's update judged on un-augmented samples (D never saw such images)"),
    Mutant("gan_r1_not_in_the_loss", "jaxgen/models/gan.py",
           "return loss + r1, (stats,", "return loss, (stats,",
           (T_STAB, T_OPTIONS), "the R1 penalty computed and logged but not applied"),
    Mutant("gan_r1_on_generated", "jaxgen/models/gan.py",
           "losses.r1_penalty(judge_real, real, gamma)",
           "losses.r1_penalty(judge_real, fake, gamma)",
           (T_STAB,), "the R1 penalty taken on generated samples instead of real data"),
    Mutant("gan_hinge_ignored", "jaxgen/models/gan.py",
           "    if self.hinge:\n", "    if False:\n",
           (T_STAB, T_OPTIONS), "gan.discriminator_loss='hinge' silently trains the cross-entropy"),
    Mutant("gan_eval_pack_tiled", "jaxgen/models/gan.py",
           "jnp.repeat(logits, m)[:n]", "jnp.tile(logits, m)[:n]",
           (T_STAB,), "eval gives example i the score of pack i mod (n/m), not its own pack's"),
    Mutant("gan_dcgan_d_without_pack", "jaxgen/models/gan.py",
           "mb_normalize=g.mb_normalize, pack=self.pack,\n", "mb_normalize=g.mb_normalize,\n",
           (T_STAB,), "gan.pack not passed to the DCGAN discriminator"),
    Mutant("nets_pack_interleaves_channels", "jaxgen/nets/adversarial.py",
           "grouped = jnp.moveaxis(grouped, 1, 3)", "grouped = jnp.moveaxis(grouped, 1, 4)",
           (T_NETS_GAN, T_STAB), "packed channels interleaved (c0 of every example first)"),
    Mutant("nets_sn_updates_in_eval", "jaxgen/nets/adversarial.py",
           "nn.SpectralNorm(layer)(x, update_stats=train)",
           "nn.SpectralNorm(layer)(x, update_stats=True)",
           (T_NETS_GAN, T_STAB), "the power iteration advances at evaluation too"),
    Mutant("nets_sn_keeps_batchnorm", "jaxgen/nets/adversarial.py",
           "if block > 0 and not sn:", "if block > 0:",
           (T_NETS_GAN, T_STAB), "the DCGAN discriminator keeps BatchNorm under spectral norm"),
    Mutant("nets_sn_skips_the_output_layer", "jaxgen/nets/adversarial.py",
           "return _linear(Dense(1), x, sn, train)[:, 0]", "return Dense(1)(x)[:, 0]",
           (T_NETS_GAN, T_STAB), "the MLP discriminator's output layer left unnormalized"),
    Mutant("config_pack_divides_batch_unchecked", "jaxgen/config.py",
           'if m.name == "gan" and config.batch_size % g.pack:',
           'if m.name == "gan" and False:',
           (T_CONFIG,), "a batch that packs do not fill is accepted (fails inside the compile)"),
    Mutant("select_ignores_direction", "jaxgen/train/selection.py",
           "return value > best if higher else value < best", "return value > best",
           (T_SELECT,), "eval.select_higher=False still keeps the largest value"),
    Mutant("select_tie_takes_the_later_step", "jaxgen/train/selection.py",
           "return value > best if higher else value < best",
           "return value >= best if higher else value <= best",
           (T_SELECT,), "a tie moves the selection to the later step"),
    Mutant("select_keeps_every_step", "jaxgen/train/selection.py",
           'if better(value, None if self.record is None else self.record["value"], self.higher):',
           "if True:",
           (T_SELECT,), "the selector keeps the latest step, not the best"),
    Mutant("select_scores_the_test_split", "jaxgen/train/selection.py",
           'self.evaluator = run.evaluator(log, split="validation")',
           "self.evaluator = run.evaluator(log)",
           (T_SELECT,), "model selection chooses on the test split"),
    Mutant("select_reports_the_last_state", "jaxgen/train/selection.py",
           "state = selector.selected_state(run.abstract_state())",
           "state = run.restore(workdir)",
           (T_SELECT,), "eval.json['selected'] scores the last checkpoint, not the selected one"),
    Mutant("paired_validation_photo_in_training", "jaxgen/data/paired.py",
           "TRAIN_PHOTOS = tuple(n for n in PHOTOS if n not in TEST_PHOTOS + VALIDATION_PHOTOS)",
           "TRAIN_PHOTOS = tuple(n for n in PHOTOS if n not in TEST_PHOTOS)",
           (T_PAIRED,), "the validation photograph is also a training photograph"),
    Mutant("paired_gray_in_colorization", "jaxgen/data/paired.py",
           "COLOR_TRAIN_PHOTOS = tuple(n for n in TRAIN_PHOTOS if n in COLOUR_PHOTOS)",
           "COLOR_TRAIN_PHOTOS = TRAIN_PHOTOS",
           (T_PAIRED,), "colorization trains on gray photographs (targets without colour)"),
    Mutant("loss_log_mse_pooled", "jaxgen/losses.py",
           "return jnp.mean(jnp.log(jnp.mean(jnp.square(output - target), axis=axes) + eps))",
           "return jnp.log(jnp.mean(jnp.square(output - target)) + eps)",
           ("tests/models/test_pix2pix.py",), "log_mse pools the batch's MSE instead of per image"),
    Mutant("pix2pix_recon_loss_ignored", "jaxgen/models/pix2pix.py",
           "self.generator_loss, self.reconstruction)", "self.generator_loss)",
           (T_OPTIONS,), "pix2pix.recon_loss='log_mse' still trains L1"),
    Mutant("folders_labels_unsorted", "jaxgen/data/folders.py",
           "  return sorted(d for d in os.listdir(folder)\n", "  return list(d for d in os.listdir(folder)\n",
           ("tests/data/test_folders.py",), "class labels follow the directory listing, not sorted names"),
    Mutant("folders_split_ignores_seed", "jaxgen/data/folders.py",
           "rng = np.random.default_rng(seed)", "rng = np.random.default_rng(0)",
           ("tests/data/test_folders.py",), "dataset.split_seed does not change the held-out images"),
    Mutant("folders_cache_ignores_mtime", "jaxgen/data/folders.py",
           '{st.st_size}\\0{st.st_mtime_ns}', '{st.st_size}',
           ("tests/data/test_folders.py",), "a file rewritten in place keeps its stale cache entry"),
    Mutant("folders_symmetric_range_as_unit", "jaxgen/data/folders.py",
           "  if lo >= 0 and hi <= 1:\n    return np.rint(x * 255)", "  if hi <= 1:\n    return np.rint(x * 255)",
           ("tests/data/test_folders.py",), "arrays in [-1, 1] read as if in [0, 1]"),
    Mutant("folders_holdout_not_per_class", "jaxgen/data/folders.py",
           "groups = [np.arange(n)] if labels is None else", "groups = [np.arange(n)] if True else",
           ("tests/data/test_folders.py",), "the held-out fraction ignores the classes"),
    Mutant("iq_periodic_peak_counts_dc", "jaxgen/evaluation/image_quality.py",
           "  peak[0, 0] = False\n", "",
           (T_IQ,), "the periodic peak includes the zero frequency"),
    Mutant("iq_periodic_peak_wrong_period", "jaxgen/evaluation/image_quality.py",
           "(np.arange(h)[:, None] % (h // period) == 0)", "(np.arange(h)[:, None] % period == 0)",
           (T_IQ,), "the peak bins are those of period H/p, not p"),
    # ---------------------------------------------------------------- your own data (31)
    Mutant("stream_epoch_off_by_one", "jaxgen/data/streaming.py",
           "  perm = perms(seed, step // spe)", "  perm = perms(seed, step // spe + 1)",
           (T_STREAM,), "the host reads the next epoch's order"),
    Mutant("stream_rows_share_ignored", "jaxgen/data/streaming.py",
           "  return batch[rows]", "  return batch",
           (T_STREAM,), "every process reads whole batches, not its share"),
    Mutant("stream_call_start_wrong", "jaxgen/train/steps.py",
           "                             np.int32(start + i * self.steps_per_call))",
           "                             np.int32(start + i))",
           (T_STREAM,), "a chunk's later calls run with the wrong step numbers (keys, rows)"),
    Mutant("stream_reader_not_restarted", "jaxgen/train/steps.py",
           "    if (self._calls is None or start != self._next or train_x is not self._source",
           "    if (self._calls is None or train_x is not self._source",
           (T_STREAM,), "a resumed run's reader continues from the old step"),
    Mutant("stream_keys_of_first_seed", "jaxgen/data/streaming.py",
           "        got = np.asarray(self._fn(self.keys[seed], np.int32(epoch), self.num_examples))",
           "        got = np.asarray(self._fn(self.keys[0], np.int32(epoch), self.num_examples))",
           (T_STREAM,), "every seed streams the first seed's order"),
    Mutant("pairs_targets_misaligned", "jaxgen/data/folders.py",
           "  return [inputs[n] for n in names], [targets[n] for n in names]",
           "  return [inputs[n] for n in names], [targets[n] for n in sorted(names, reverse=True)]",
           (T_FOLDERS,), "inputs paired with the wrong targets"),
    Mutant("pairs_input_size_ignored", "jaxgen/data/folders.py",
           '  input_config.image_size = int(config.input_size) or int(config.image_size)',
           '  input_config.image_size = int(config.image_size)',
           (T_FOLDERS,), "dataset.input_size has no effect"),
    Mutant("pairs_sr_factor_fixed", "jaxgen/data/folders.py",
           "    factor = int(how[2:])", "    factor = 2",
           (T_FOLDERS,), "dataset.pairs='sr4' makes x2 pairs"),
    Mutant("features_exemplar_test_not_augmented", "jaxgen/evaluation/classifier.py",
           "  test = np.round(augment(train / 255.0, config, seed=1) * 255).astype(np.uint8)",
           "  test = train.copy()",
           (T_FEATURES,), "the extractor's test views are its training images: accuracy flatters"),
    Mutant("features_flip_ignored", "jaxgen/evaluation/classifier.py",
           "  if config.flip:\n    flip = jax.random.bernoulli",
           "  if False:\n    flip = jax.random.bernoulli",
           (T_FEATURES,), "ClassifierConfig.flip has no effect"),
    Mutant("features_fd_against_itself", "jaxgen/evaluation/sample_quality.py",
           '    out = {"fd": frechet_distance(feats, self.reference_features)}',
           '    out = {"fd": frechet_distance(feats, feats)}',
           (T_FEATURES,), "the unlabelled judge's FD compares the samples with themselves"),
    Mutant("test_split_smaller_than_batch_accepted", "jaxgen/train/run.py",
           "  if n_test < config.batch_size:", "  if n_test < 1:",
           ("tests/test_config.py",), "a test split smaller than a batch is not refused"),
    # ---------------------------------------------------------------- the studio
    Mutant("studio_slider_scales_dropped", "jaxgen/studio/views.py",
           "    return self.base_code(base) + (c * self.scales) @ self.axes",
           "    return self.base_code(base) + c @ self.axes",
           (T_STUDIO,), "slider positions taken as raw code units, not standard deviations"),
    Mutant("studio_slerp_for_linear", "jaxgen/studio/views.py",
           'at = explore.lerp_at if method == "linear" else explore.slerp_at',
           'at = explore.slerp_at',
           (T_STUDIO,), "the interpolation method is ignored"),
    Mutant("studio_percentile_reversed", "jaxgen/studio/views.py",
           "float(np.mean(ref[k] < v[0]))", "float(np.mean(ref[k] > v[0]))",
           (T_STUDIO,), "the share of test examples scoring higher reported as lower"),
    Mutant("studio_lab_permutation_not_carried", "jaxgen/studio/gan_lab.py",
           "        self.state, self._perm, metrics = self._chunk(",
           "        self.state, _, metrics = self._chunk(",
           (T_STUDIO,), "the lab reuses the first epoch's order after an epoch boundary"),
    Mutant("studio_lab_arrows_ascend", "jaxgen/studio/gan_lab.py",
           "    arrows = -jax.grad(g_loss)(shown) * shown.shape[0]",
           "    arrows = jax.grad(g_loss)(shown) * shown.shape[0]",
           (T_STUDIO,), "the arrows point up the generator's loss"),
    Mutant("studio_runs_unfinished_as_finished", "jaxgen/studio/runs.py",
           '    done = row["step"] is not None and row["step"] == row["num_steps"]',
           '    done = row["step"] is not None',
           (T_STUDIO,), "a run evaluated at an earlier step listed as finished"),
    Mutant("studio_translation_truth_preprocessed", "jaxgen/studio/views.py",
           "    self.truth = d.test.astype(np.float32) / 255.0",
           '    self.truth = np.asarray(trained.test_x["x"])',
           (T_STUDIO,), "the pix2pix page's truth in the model's [-1, 1] range, not [0, 1]"),
    Mutant("studio_tsne_click_decodes_first_code", "jaxgen/studio/views.py",
           "    nearest = int(np.argmin(((self._tsne() - p) ** 2).sum(1)))",
           "    nearest = 0",
           (T_STUDIO,), "a click on the t-SNE map decodes a fixed code, not the nearest"),
    # ---------------------------------------------------------------- benchmarks
    Mutant("suite_paired_ratio_inverted", "benchmarks/suite.py",
           '    ratios = [t / j for j, t in zip(out["times"], out["torch_times"])]',
           '    ratios = [j / t for j, t in zip(out["times"], out["torch_times"])]',
           ("tests/test_benchmarks.py",),
           "the paired suite reports PyTorch's rate over jaxgen's as jaxgen's lead"),
    Mutant("dcgan_layers_d1_input_gradient_left_out", "benchmarks/dcgan_layers.py",
           '  return part == "dx" and layer.startswith("G1")',
           '  return part == "dx" and layer[:2] in ("G1", "D1")',
           ("tests/test_benchmarks.py",),
           "the layer benchmark's step total leaves out D1's input gradient, which G's update needs"),
]


# --------------------------------------------------------------------------- catalogue checks

def _test_file(test: str) -> str:
  return test.split("::", 1)[0]


def check_catalogue(mutants, root: str = REPO) -> list[str]:
  """Problems of the catalogue (empty when it is sound): unique names, each ``old``
  exactly once in its file, ``new`` different and still valid Python, every test file and
  test function present."""
  problems = []
  seen = set()
  for m in mutants:
    where = f"{m.name} ({m.path})"
    if m.name in seen:
      problems.append(f"{m.name}: duplicate name")
    seen.add(m.name)
    if not re.fullmatch(r"[a-z0-9_]+", m.name):
      problems.append(f"{m.name}: name must be lower_snake_case")
    if not m.why.strip() or not m.tests:
      problems.append(f"{where}: needs a 'why' and at least one test")
    full = os.path.join(root, m.path)
    if not os.path.isfile(full):
      problems.append(f"{where}: file not found")
      continue
    with open(full, encoding="utf-8") as f:
      source = f.read()
    count = source.count(m.old)
    if count != 1:
      problems.append(f"{where}: 'old' snippet found {count} times (must be exactly once): {m.old!r}")
    elif m.old == m.new:
      problems.append(f"{where}: 'new' equals 'old'")
    elif m.path.endswith(".py"):
      try:
        ast.parse(source.replace(m.old, m.new, 1), m.path)
      except SyntaxError as e:
        problems.append(f"{where}: the mutated file is not valid Python ({e.msg}, line {e.lineno})")
    for t in m.tests:
      tf = os.path.join(root, _test_file(t))
      if not os.path.isfile(tf):
        problems.append(f"{where}: test file {_test_file(t)} not found")
      elif "::" in t:
        func = t.split("::")[-1].split("[", 1)[0]
        with open(tf, encoding="utf-8") as f:
          if not re.search(rf"^\s*def {re.escape(func)}\(", f.read(), re.M):
            problems.append(f"{where}: test {t} not found")
  return problems


# --------------------------------------------------------------------------- running

def repo_files(root: str = REPO) -> list[str]:
  """Tracked and untracked-but-not-ignored files (repo-relative), minus EXCLUDED_DIRS."""
  try:
    out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard"], capture_output=True, check=True).stdout
    names = sorted(set(n for n in out.decode("utf-8").split("\0") if n))
  except (OSError, subprocess.CalledProcessError):
    names = []
    for folder, dirs, files in os.walk(root):
      dirs[:] = [d for d in dirs if d not in EXCLUDED_PARTS and not d.endswith(".egg-info")]
      names += [os.path.relpath(os.path.join(folder, f), root) for f in files]
  keep = []
  for n in names:
    parts = n.split("/")
    if parts[0] in EXCLUDED_DIRS or any(p in EXCLUDED_PARTS or p.endswith(".egg-info") for p in parts):
      continue
    if os.path.isfile(os.path.join(root, n)):      # tracked but deleted in the work tree: skip
      keep.append(n)
  return keep


def make_copy(dest: str, files: list[str], root: str = REPO) -> str:
  for n in files:
    target = os.path.join(dest, n)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(os.path.join(root, n), target)
  return dest


def run_env(copy: str, cache_dir: str) -> dict:
  env = dict(os.environ)
  env["PYTHONPATH"] = copy + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
  env["JAX_COMPILATION_CACHE_DIR"] = cache_dir
  env.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
  env.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
  env["PYTHONDONTWRITEBYTECODE"] = "1"     # no stale .pyc of a mutated file, ever
  return env


def check_imports_from_copy(copy: str, env: dict) -> None:
  """Raises RuntimeError unless ``import jaxgen`` in the copy finds the copy's package."""
  p = subprocess.run([sys.executable, "-c", "import os, jaxgen; print(os.path.realpath(jaxgen.__file__))"],
                     cwd=copy, env=env, capture_output=True, text=True, timeout=120)
  found = p.stdout.strip()
  if p.returncode != 0 or not found.startswith(os.path.realpath(copy) + os.sep):
    raise RuntimeError(f"jaxgen is not imported from the copy {copy}: got {found or p.stderr[-500:]!r}")


_ACTIVE: set = set()
_ACTIVE_LOCK = threading.Lock()


def run_pytest(copy: str, env: dict, tests, timeout: float, workers: int = 0):
  """(returncode or None on timeout, output, seconds)."""
  cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-rfE", "-p", "no:cacheprovider",
         "-n", str(workers), "-m", "slow or not slow", *tests]      # both test tiers
  start = time.perf_counter()
  proc = subprocess.Popen(cmd, cwd=copy, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, start_new_session=True)
  with _ACTIVE_LOCK:
    _ACTIVE.add(proc)
  try:
    out, _ = proc.communicate(timeout=timeout)
    rc = proc.returncode
  except subprocess.TimeoutExpired:
    _kill_group(proc)
    out, _ = proc.communicate()
    rc = None
  finally:
    with _ACTIVE_LOCK:
      _ACTIVE.discard(proc)
  return rc, out or "", time.perf_counter() - start


def _kill_group(proc) -> None:
  """SIGKILL the process group this tool started for ``proc`` (pytest and its children)."""
  try:
    os.killpg(proc.pid, signal.SIGKILL)
  except (ProcessLookupError, PermissionError):
    pass


_FAIL_LINE = re.compile(r"^(FAILED|ERROR) (.+?)(?: - .*)?$")
_PROGRESS_LINE = re.compile(r"^[.sxXFE]+(\s+\[\s*\d+%\])?$")     # pytest -q progress


def first_failure(output: str) -> Optional[str]:
  """The first failing test id (or erroring file) in pytest's short summary."""
  for line in output.splitlines():
    m = _FAIL_LINE.match(line.strip())
    if m:
      return m.group(2).strip()
  return None


def outcome_of(rc: Optional[int]) -> str:
  if rc is None:
    return "killed (timeout)"
  if rc == 0:
    return "survived"
  if rc == 1:
    return "killed"
  return "killed (error)"


def run_mutant(m: Mutant, copy: str, env: dict, timeout: float) -> dict:
  path = os.path.join(copy, m.path)
  with open(path, "rb") as f:
    original = f.read()
  text = original.decode("utf-8")
  if text.count(m.old) != 1:
    raise RuntimeError(f"{m.name}: snippet not found exactly once in the copy of {m.path}")
  try:
    with open(path, "wb") as f:
      f.write(text.replace(m.old, m.new, 1).encode("utf-8"))
    rc, out, seconds = run_pytest(copy, env, m.tests, timeout)
  finally:
    with open(path, "wb") as f:
      f.write(original)
  killer = first_failure(out) if rc else None
  if rc not in (0, 1) and killer is None:
    tail = [l for l in out.strip().splitlines() if l.strip()]
    killer = ("timeout" if rc is None else (tail[-1][:200] if tail else f"exit code {rc}"))
  return {"name": m.name, "path": m.path, "why": m.why, "tests": list(m.tests),
          "outcome": outcome_of(rc), "returncode": rc, "seconds": round(seconds, 1),
          "killed_by": killer, "output_tail": out[-3000:] if rc not in (0, 1) else None}


# --------------------------------------------------------------------------- reports

def _git(*args) -> str:
  try:
    return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True,
                          check=True).stdout.strip()
  except (OSError, subprocess.CalledProcessError):
    return ""


def _cpu_model() -> str:
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or platform.machine()


def summarize(results: list[dict]) -> dict:
  killed = [r for r in results if r["outcome"] != "survived"]
  return {"total": len(results), "killed": len(killed),
          "killed_by_failure": sum(r["outcome"] == "killed" for r in results),
          "killed_by_error": sum(r["outcome"] == "killed (error)" for r in results),
          "killed_by_timeout": sum(r["outcome"] == "killed (timeout)" for r in results),
          "survived": [r["name"] for r in results if r["outcome"] == "survived"],
          "kill_rate": round(len(killed) / len(results), 4) if results else None}


def write_reports(path: str, report: dict) -> str:
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, "w") as f:
    json.dump(report, f, indent=2)
  md_path = os.path.splitext(path)[0] + ".md"
  s = report["summary"]
  lines = [f"# Planted bugs: {s['killed']}/{s['total']} killed", "",
           f"Commit {report['commit'] or '?'}{' (with uncommitted changes)' if report['dirty'] else ''}, "
           f"{report['date']}, {report['machine']}; `python -m tools.plant_bugs` "
           f"(timeout {report['timeout_s']} s per mutant).", "",
           f"Killed by a failing test: {s['killed_by_failure']}; by an error: "
           f"{s['killed_by_error']}; by the timeout: {s['killed_by_timeout']}; "
           f"survived: {len(s['survived'])}.", ""]
  if report.get("interrupted"):
    lines += ["**Interrupted**: only the mutants below ran.", ""]
  survivors = [r for r in report["mutants"] if r["outcome"] == "survived"]
  if survivors:
    lines += ["## Survivors (bugs the tests miss)", ""]
    lines += [f"* `{r['name']}` ({r['path']}): {r['why']}" for r in survivors]
    lines += [""]
  lines += ["## All mutants", "", "| mutant | file | outcome | s | first failing test | bug |",
            "| --- | --- | --- | ---: | --- | --- |"]
  for r in report["mutants"]:
    killer = (r["killed_by"] or "").replace("|", "\\|")
    lines.append(f"| `{r['name']}` | {r['path']} | {r['outcome']} | {r['seconds']:.0f} | "
                 f"{f'`{killer}`' if killer else ''} | {r['why'].replace('|', '/')} |")
  with open(md_path, "w") as f:
    f.write("\n".join(lines) + "\n")
  return md_path


# --------------------------------------------------------------------------- CLI

def _select(names: Optional[list[str]]) -> list[Mutant]:
  if not names:
    return list(MUTANTS)
  by_name = {m.name: m for m in MUTANTS}
  unknown = [n for n in names if n not in by_name]
  if unknown:
    raise SystemExit(f"unknown mutant(s): {', '.join(unknown)}; see --list")
  return [by_name[n] for n in dict.fromkeys(names)]


def _list(mutants) -> None:
  width = max(len(m.name) for m in mutants)
  for m in mutants:
    print(f"{m.name:<{width}}  {m.path}\n{'':<{width}}  why:   {m.why}\n"
          f"{'':<{width}}  tests: {' '.join(m.tests)}")
  print(f"{len(mutants)} mutants")


def main(argv=None) -> int:
  p = argparse.ArgumentParser(prog="python -m tools.plant_bugs",
                              description=__doc__.split("\n\n")[0],
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--list", action="store_true", help="print the catalogue and exit")
  p.add_argument("--check", action="store_true",
                 help="check the whole catalogue (snippets found exactly once, tests exist) and exit")
  p.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutants")
  p.add_argument("--jobs", type=int, default=1, help="mutants run at once, each in its own copy (default 1)")
  p.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant (default 300)")
  p.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                 help="first run the union of the selected mutants' tests unmutated and stop if "
                      "they fail (default: on)")
  p.add_argument("--baseline-timeout", type=float, default=3600.0,
                 help="seconds for the baseline run (default 3600)")
  p.add_argument("--out", metavar="PATH", help="write a JSON report there, and a markdown summary "
                                                "next to it (same name, .md)")
  p.add_argument("--cache-dir", help="XLA compilation cache to use (default: a fresh temporary one)")
  p.add_argument("--keep", action="store_true", help="keep the temporary copies (their path is printed)")
  args = p.parse_args(argv)

  if args.check:
    problems = check_catalogue(MUTANTS)
    for line in problems:
      print(f"catalogue error: {line}")
    print(f"{len(MUTANTS)} mutants, {len(problems)} catalogue error(s)")
    return 1 if problems else 0
  mutants = _select(args.only)
  if args.list:
    _list(mutants)
    return 0
  problems = check_catalogue(mutants)
  if problems:
    for line in problems:
      print(f"catalogue error: {line}")
    return 1
  if args.jobs < 1:
    raise SystemExit("--jobs must be >= 1")

  jobs = min(args.jobs, len(mutants))
  work = tempfile.mkdtemp(prefix="plant_bugs_")
  cache_dir = os.path.abspath(args.cache_dir) if args.cache_dir else os.path.join(work, "xla_cache")
  os.makedirs(cache_dir, exist_ok=True)
  files = repo_files()
  copies = [make_copy(os.path.join(work, f"repo{i}"), files) for i in range(jobs)]
  envs = {c: run_env(c, cache_dir) for c in copies}
  for c in copies:
    check_imports_from_copy(c, envs[c])
  print(f"{len(mutants)} mutants, {jobs} job(s), {len(files)} files copied to {work}; "
        f"jaxgen imported from the copies; XLA cache {cache_dir}", flush=True)

  report = {"commit": _git("rev-parse", "--short", "HEAD"), "dirty": bool(_git("status", "--porcelain")),
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": f"{_cpu_model()}, {os.cpu_count()} CPUs",
            "command": " ".join([os.path.basename(sys.argv[0])] + (argv if argv is not None else sys.argv[1:])),
            "timeout_s": args.timeout, "baseline": None, "mutants": [], "summary": None}
  results: list[dict] = []
  interrupted = False
  try:
    if args.baseline:
      union = list(dict.fromkeys(t for m in mutants for t in m.tests))
      # A node id inside a file that is also listed whole would run twice: drop it.
      whole = {t for t in union if "::" not in t}
      union = [t for t in union if "::" not in t or _test_file(t) not in whole]
      print(f"baseline: {len(union)} test paths on the unmutated copy ...", flush=True)
      rc, out, seconds = run_pytest(copies[0], envs[copies[0]], union, args.baseline_timeout,
                                    workers=jobs if jobs > 1 else 0)
      report["baseline"] = {"tests": union, "returncode": rc, "seconds": round(seconds, 1)}
      passed = sum(l.count(".") for l in out.splitlines() if _PROGRESS_LINE.match(l.strip()))
      print(f"baseline: {'green' if rc == 0 else 'RED'} in {seconds:.0f} s ({passed} tests passed)",
            flush=True)
      if rc != 0:
        print(out[-4000:])
        print("baseline is red (every mutant would look killed): fix the tests first, or "
              "narrow --only; --no-baseline skips this check")
        return 2

    free: "queue.Queue[str]" = queue.Queue()
    for c in copies:
      free.put(c)
    lock = threading.Lock()
    width = max(len(m.name) for m in mutants)

    def task(m: Mutant) -> dict:
      copy = free.get()
      try:
        r = run_mutant(m, copy, envs[copy], args.timeout)
      finally:
        free.put(copy)
      with lock:
        results.append(r)
        print(f"[{len(results):>{len(str(len(mutants)))}}/{len(mutants)}] {m.name:<{width}}  "
              f"{r['outcome']:<16} {r['seconds']:6.1f} s  {r['killed_by'] or ''}", flush=True)
      return r

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
      futures = [pool.submit(task, m) for m in mutants]
      try:
        for fut in futures:
          fut.result()
      except KeyboardInterrupt:
        interrupted = True
        for fut in futures:
          fut.cancel()
        with _ACTIVE_LOCK:
          for proc in list(_ACTIVE):
            _kill_group(proc)
        raise
  except KeyboardInterrupt:
    interrupted = True
    print("interrupted", flush=True)
  finally:
    if not args.keep:
      shutil.rmtree(work, ignore_errors=True)
    else:
      print(f"copies kept in {work}")

  order = {m.name: i for i, m in enumerate(mutants)}
  results.sort(key=lambda r: order[r["name"]])
  summary = summarize(results)
  report.update(mutants=results, summary=summary, interrupted=interrupted)
  if results:
    print(f"\nkill rate: {summary['killed']}/{summary['total']} "
          f"({summary['killed_by_failure']} by a failing test, {summary['killed_by_error']} by an "
          f"error, {summary['killed_by_timeout']} by the timeout)")
    survivors = [r for r in results if r["outcome"] == "survived"]
    if survivors:
      print(f"survivors ({len(survivors)}): bugs the tests do not notice")
      for r in survivors:
        print(f"  {r['name']} ({r['path']}): {r['why']}")
  if args.out:
    md = write_reports(args.out, report)
    print(f"wrote {args.out} and {md}")
  return 130 if interrupted else 0


if __name__ == "__main__":
  sys.exit(main())
