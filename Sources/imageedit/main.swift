import Foundation
import ImageEditServices

exit(await imageeditMain(CommandLine.arguments))
