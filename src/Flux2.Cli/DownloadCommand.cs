using Flux2.Hub;

namespace Flux2.Cli;

/// <summary><c>flux2 download REPO[@REVISION][/PATH]</c>: fetches what the pipeline reads from a Hugging Face diffusers
/// repository, or one file or component folder of a repository, into the Hugging Face cache (<see cref="HubResolver"/>).</summary>
public sealed class DownloadCommand(HubModels? hub = null) : ICommand
{
    private readonly HubModels _hub = hub ?? new HubModels();

    public string Name => "download";
    public string Summary => "download a model from the Hugging Face Hub into the Hugging Face cache";

    public string Help =>
        """
        Usage: flux2 download REPO[@REVISION]
               flux2 download REPO[@REVISION]/PATH

        Downloads the files a FLUX.2 pipeline reads from a Hugging Face diffusers repository (model_index.json,
        the component configs, the tokenizer files and the weights the shard indexes list; nothing else the
        repository holds) into the Hugging Face cache, where diffusers and `hf` find them too, and prints the
        snapshot folder. REVISION is a branch, tag or commit (default main). Files already in the cache are not
        fetched again; every file is checked against the Hub's sha256 before it enters the cache; an interrupted
        download (Ctrl-C, a lost connection) resumes where it stopped when run again.

        With a PATH in the repository (or its address on the Hub's site, https://huggingface.co/REPO/blob/
        REVISION/PATH) only that file is fetched, or of a component folder (vae, tokenizer, ...) what loading
        reads of it, and its path in the cache is printed: a component given on its own, such as a GGUF
        transformer or text encoder, or the VAE folder of another repository.

        generate, serve and info take the same REPO[@REVISION] for -m, and REPO[@REVISION]/PATH for --transformer,
        --vae, --text-encoder and --tokenizer, and download what is missing themselves.

        Environment (as the Python tools read it):
          HF_TOKEN        access token for gated or private repositories such as black-forest-labs/FLUX.2-dev
                          (default: the token file `hf auth login` wrote, HF_HOME/token)
          HF_HUB_CACHE    the cache folder (default HF_HOME/hub, HF_HOME defaulting to ~/.cache/huggingface)
          HF_ENDPOINT     the Hub (default https://huggingface.co)
          HF_HUB_OFFLINE  1: never use the network, only the cache

        Examples:
          flux2 download black-forest-labs/FLUX.2-klein-4B
          flux2 download unsloth/Qwen3-4B-GGUF/Qwen3-4B-Q4_K_M.gguf

        """;

    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var o = new CommandArgs(args, new HashSet<string>());
        o.EnsureAllUsed(maxPositionals: 1);
        if (o.Positionals.Count == 0) throw new CliException("missing REPO (a Hugging Face model id such as black-forest-labs/FLUX.2-klein-4B)");
        if (HubPathReference.TryParse(o.Positionals[0], out var file))
        {
            output.WriteLine(_hub.ResolvePath(file, Name, error));
            return CliApp.ExitOk;
        }
        if (!HubModelId.TryParse(o.Positionals[0], out var id))
            throw new CliException($"'{o.Positionals[0]}' is not a Hugging Face model id (org/name, optionally @revision) or a path in one (org/name/path)");
        var snapshot = _hub.Resolve(id, Name, error);
        output.WriteLine($"{id}: commit {snapshot.Commit}, {snapshot.DownloadedFiles} file{(snapshot.DownloadedFiles == 1 ? "" : "s")} downloaded");
        output.WriteLine(snapshot.Folder);
        return CliApp.ExitOk;
    }
}
