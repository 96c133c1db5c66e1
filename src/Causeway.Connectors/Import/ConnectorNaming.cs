using System.Text;

namespace Causeway.Connectors;

/// <summary>
/// The naming rule for the <c>{connector}</c> URL segment: the swagger <c>info.title</c>, lower-cased, every run of
/// characters other than a-z and 0-9 replaced by one '-', trimmed of '-', at most 64 characters; "connector" when
/// nothing is left. The same package therefore gets the same name whether it arrives as a folder, a zip or JSON.
/// Titles can collide; <see cref="MakeUnique"/> appends "-2", "-3" ... in the order connectors are added.
/// </summary>
public static class ConnectorNaming
{
    private const int MaxLength = 64;

    /// <summary>The name derived from a title.</summary>
    public static string FromTitle(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        var sb = new StringBuilder(title.Length);
        foreach (var c in title)
        {
            var lower = char.ToLowerInvariant(c);
            if (char.IsAsciiLetterLower(lower) || char.IsAsciiDigit(lower))
            {
                sb.Append(lower);
            }
            else if (Latin(lower) is { } plain)
            {
                // "Société" -> "societe". Unicode normalisation is unavailable under InvariantGlobalization, so
                // the Latin-1 letters that occur in connector titles are spelled out here.
                sb.Append(plain);
            }
            else if (sb.Length > 0 && sb[^1] != '-')
            {
                sb.Append('-');
            }
        }

        var name = sb.ToString().Trim('-');
        if (name.Length > MaxLength)
        {
            name = name[..MaxLength].TrimEnd('-');
        }

        return name.Length == 0 ? "connector" : name;
    }

    private static string? Latin(char c) => c switch
    {
        'à' or 'á' or 'â' or 'ã' or 'ä' or 'å' => "a",
        'æ' => "ae",
        'ç' => "c",
        'è' or 'é' or 'ê' or 'ë' => "e",
        'ì' or 'í' or 'î' or 'ï' => "i",
        'ñ' => "n",
        'ò' or 'ó' or 'ô' or 'õ' or 'ö' or 'ø' => "o",
        'œ' => "oe",
        'ù' or 'ú' or 'û' or 'ü' => "u",
        'ý' or 'ÿ' => "y",
        'ß' => "ss",
        _ => null,
    };

    /// <summary>True when <paramref name="name"/> follows the rule's alphabet (a-z, 0-9, '-', not at the ends).</summary>
    public static bool IsValid(string name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLength + 8 && name[0] != '-' && name[^1] != '-'
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    /// <summary>
    /// <paramref name="name"/> when <paramref name="taken"/> does not hold it, otherwise the first free
    /// <c>name-2</c>, <c>name-3</c> ...
    /// </summary>
    public static string MakeUnique(string name, Func<string, bool> taken)
    {
        ArgumentNullException.ThrowIfNull(taken);
        if (!taken(name))
        {
            return name;
        }

        for (var i = 2; ; i++)
        {
            var candidate = $"{name}-{i}";
            if (!taken(candidate))
            {
                return candidate;
            }
        }
    }
}
